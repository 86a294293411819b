from django import forms

from .models import Attempt

DISPLAY_NAME_MAX_LENGTH = Attempt._meta.get_field("display_name").max_length


class QuizForm(forms.Form):
    """One radio group per question (answer optional: unanswered counts as wrong), plus a display name
    for anonymous takers."""

    def __init__(self, *args, questions: list[dict], ask_display_name: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        if ask_display_name:
            self.fields["display_name"] = forms.CharField(
                label="Your name",
                max_length=DISPLAY_NAME_MAX_LENGTH,
                help_text="Shown with your result. No account needed.",
                widget=forms.TextInput(attrs={"autocomplete": "nickname", "placeholder": "e.g. Sam"}),
            )
        for number, question in enumerate(questions, start=1):
            self.fields[self.field_name(question)] = forms.TypedChoiceField(
                label=f"Question {number}",
                choices=[(index, choice) for index, choice in enumerate(question["choices"])],
                coerce=int,
                required=False,
                empty_value=None,
                widget=forms.RadioSelect(attrs={"class": "form-check-input flex-shrink-0"}),
            )

    @staticmethod
    def field_name(question: dict) -> str:
        return f"question_{question['id']}"

    def question_fields(self):
        """(question, bound field) pairs in the set's order, for the template."""
        return [(question, self[self.field_name(question)]) for question in self.questions]

    def answers(self) -> list[dict]:
        return [
            {"question_id": question["id"], "choice": self.cleaned_data[self.field_name(question)]}
            for question in self.questions
            if self.cleaned_data.get(self.field_name(question)) is not None
        ]
