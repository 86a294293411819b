from django import forms

from .models import Group, Role
from .services import ADDABLE_ROLES


class GroupForm(forms.ModelForm):
    class Meta:
        model = Group
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"description": "Optional: what the group studies, when it meets."}


class GroupSettingsForm(forms.ModelForm):
    class Meta:
        model = Group
        fields = ["name", "description", "members_can_create_sessions"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        labels = {"members_can_create_sessions": "Members may create sessions"}


class AddMemberForm(forms.Form):
    username = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(choices=[(r.value, r.label) for r in ADDABLE_ROLES], initial=Role.MEMBER)

    def __init__(self, *args, can_grant_admin: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_grant_admin:
            self.fields["role"].choices = [(Role.MEMBER.value, Role.MEMBER.label)]


class ChangeRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
