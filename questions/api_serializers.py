"""Request bodies shared by the individual and the group quiz flow."""

from rest_framework import serializers


class AnswerSerializer(serializers.Serializer):
    question_id = serializers.IntegerField()
    choice = serializers.IntegerField()


class SubmissionSerializer(serializers.Serializer):
    answers = serializers.ListField(child=AnswerSerializer(), max_length=200)
    display_name = serializers.CharField(max_length=100, required=False, allow_blank=True, trim_whitespace=True)
    round = serializers.IntegerField(required=False, min_value=1, max_value=10)


class QuestionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    prompt = serializers.CharField()
    choices = serializers.ListField(child=serializers.CharField())


class QuestionResultSerializer(serializers.Serializer):
    question_id = serializers.IntegerField()
    correct = serializers.BooleanField()
    correct_choice = serializers.IntegerField()
    explanation = serializers.CharField(allow_blank=True)
