import pytest

from questions.text_format import QuestionTextError, format_questions_text, parse_questions_text

TWO_QUESTIONS = """\
What is the capital of France?
Lyon
* Paris
Marseille
> Paris has been the capital since 987.

Which gas do plants take in?
* Carbon dioxide
Oxygen
"""


def error_of(text: str) -> QuestionTextError:
    with pytest.raises(QuestionTextError) as caught:
        parse_questions_text(text)
    return caught.value


def test_questions_are_read_with_choices_answer_and_explanation():
    assert parse_questions_text(TWO_QUESTIONS) == [
        {
            "prompt": "What is the capital of France?",
            "choices": ["Lyon", "Paris", "Marseille"],
            "answer": 1,
            "explanation": "Paris has been the capital since 987.",
        },
        {
            "prompt": "Which gas do plants take in?",
            "choices": ["Carbon dioxide", "Oxygen"],
            "answer": 0,
            "explanation": "",
        },
    ]


def test_windows_line_endings_extra_blank_lines_and_indentation_are_tolerated():
    text = "\r\n\r\n  Q1?\r\n  a\r\n  *b\r\n\r\n\r\n\r\nQ2?\r\n*  c\r\nd\r\n\r\n"
    questions = parse_questions_text(text)
    assert [q["prompt"] for q in questions] == ["Q1?", "Q2?"]
    assert questions[0]["choices"] == ["a", "b"] and questions[0]["answer"] == 1
    assert questions[1]["choices"] == ["c", "d"] and questions[1]["answer"] == 0


def test_several_explanation_lines_are_joined():
    questions = parse_questions_text("Q?\n* a\nb\n> first\n>second")
    assert questions[0]["explanation"] == "first\nsecond"


def test_a_backslash_keeps_a_leading_star_or_angle_bracket_literal():
    questions = parse_questions_text("\\> is it?\n\\* star\n* plain")
    assert questions[0]["prompt"] == "> is it?"
    assert questions[0]["choices"] == ["* star", "plain"]
    assert questions[0]["answer"] == 1


def test_empty_text_is_an_error_on_line_1():
    error = error_of("  \n\n ")
    assert error.line == 1
    assert "at least one question" in error.message


def test_a_question_without_a_marked_choice_points_at_its_question_line():
    error = error_of(TWO_QUESTIONS.replace("* Carbon dioxide", "Carbon dioxide"))
    assert error.line == 7
    assert "*" in error.message
    assert str(error).startswith("Line 7:")


def test_two_marked_choices_point_at_the_second():
    error = error_of("Q?\n* a\n* b\nc")
    assert error.line == 3
    assert "line 2" in error.message


def test_a_question_with_one_choice_points_at_its_question_line():
    error = error_of(TWO_QUESTIONS + "\nLonely question?\n* only answer\n")
    assert error.line == 11
    assert "at least 2 choices" in error.message


def test_a_repeated_choice_points_at_the_repeat():
    error = error_of("Q?\n* a\nb\na")
    assert error.line == 4
    assert "line 2" in error.message


def test_a_star_with_nothing_after_it_is_an_error_on_its_line():
    assert error_of("Q?\na\n*\nb").line == 3


def test_a_block_starting_with_a_choice_or_an_explanation_is_an_error_on_that_line():
    assert error_of("Q?\n* a\nb\n\n* orphan\nc").line == 5
    assert error_of("> why\nQ?\n* a\nb").line == 1


def test_a_choice_after_the_explanation_asks_for_a_blank_line():
    error = error_of("Q?\n* a\nb\n> because\nNext question?\n* c\nd")
    assert error.line == 5
    assert "blank line" in error.message


def test_too_many_choices_points_at_the_first_one_too_many():
    choices = "\n".join(f"choice {i}" for i in range(1, 11))
    error = error_of(f"Q?\n* right\n{choices}")
    assert error.line == 12
    assert "10 choices" in error.message


def test_too_many_questions_points_at_the_first_one_too_many():
    text = "\n\n".join(f"Question {i}?\n* yes\nno" for i in range(1, 202))
    error = error_of(text)
    assert error.line == 200 * 4 + 1
    assert "200 questions" in error.message


def test_contract_length_rules_point_at_the_line_that_breaks_them():
    assert error_of("Q?\n* ok\n" + "x" * 501).line == 3
    assert error_of("Q" * 2001 + "\n* a\nb").line == 1
    assert error_of("Q?\n* a\nb\n> " + "e" * 2001).line == 4


def test_the_error_is_a_value_error_with_the_line():
    error = error_of("Q?")
    assert isinstance(error, ValueError)
    assert error.line == 1


def test_formatted_questions_read_back_the_same():
    questions = [
        {"prompt": "* tricky > prompt", "choices": ["> one", "two", "*three"], "answer": 2, "explanation": "a\nb"},
        {"prompt": "Plain?", "choices": ["x", "y"], "answer": 0, "explanation": ""},
    ]
    assert parse_questions_text(format_questions_text(questions)) == questions
