"""The contract's rules for questions coming in (from the extension or a form), in one place."""

from rest_framework import serializers

MAX_QUESTIONS = 200
MAX_CHOICES = 10


class QuestionInputSerializer(serializers.Serializer):
    prompt = serializers.CharField(min_length=1, max_length=2000, trim_whitespace=True)
    choices = serializers.ListField(
        child=serializers.CharField(min_length=1, max_length=500, trim_whitespace=True),
        min_length=2,
        max_length=MAX_CHOICES,
    )
    answer = serializers.IntegerField(help_text="Index into choices of the correct one.")
    explanation = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate_choices(self, choices):
        if len(set(choices)) != len(choices):
            raise serializers.ValidationError("Choices must be unique.")
        return choices

    def validate(self, attrs):
        if not 0 <= attrs["answer"] < len(attrs["choices"]):
            raise serializers.ValidationError({"answer": ["Must be the index of one of the choices."]})
        return attrs


class QuestionListField(serializers.ListField):
    """1..200 questions, each checked by QuestionInputSerializer."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", QuestionInputSerializer())
        kwargs.setdefault("min_length", 1)
        kwargs.setdefault("max_length", MAX_QUESTIONS)
        super().__init__(**kwargs)
