"""Scoring a submission against a list of questions: the one implementation, used by the individual
flow (on a QuestionSet) and by group sessions (on their snapshot).

A question here is a mapping with "id", "answer" and optionally "explanation".
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from quizsite.errors import InvalidInput


@dataclass(frozen=True)
class QuestionResult:
    question_id: int
    correct: bool
    correct_choice: int
    explanation: str
    choice: int | None

    def as_dict(self) -> dict:
        return {
            "question_id": self.question_id,
            "correct": self.correct,
            "correct_choice": self.correct_choice,
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class ScoredSubmission:
    score: int
    total: int
    results: list[QuestionResult] = field(default_factory=list)

    @property
    def answers(self) -> list[dict]:
        """The answers as stored: one entry per answered question."""
        return [{"question_id": r.question_id, "choice": r.choice} for r in self.results if r.choice is not None]

    @property
    def missed_ids(self) -> list[int]:
        return [r.question_id for r in self.results if not r.correct]


def score_submission(questions: Sequence[Mapping], answers: Sequence[Mapping]) -> ScoredSubmission:
    """Score `answers` ([{"question_id", "choice"}]) against `questions`.

    Each question may be answered at most once; unanswered questions count as wrong. Unknown ids and
    out-of-range choices raise InvalidInput naming the "answers" field.
    """
    by_id = {int(q["id"]): q for q in questions}
    chosen: dict[int, int] = {}
    for index, answer in enumerate(answers):
        question_id, choice = answer["question_id"], answer["choice"]
        question = by_id.get(question_id)
        if question is None:
            raise InvalidInput(f"Answer {index}: question {question_id} is not part of this quiz.", field="answers")
        if question_id in chosen:
            raise InvalidInput(f"Answer {index}: question {question_id} is answered more than once.", field="answers")
        if not 0 <= choice < len(question["choices"]):
            raise InvalidInput(
                f"Answer {index}: choice {choice} is out of range for question {question_id}.", field="answers"
            )
        chosen[question_id] = choice

    results = [
        QuestionResult(
            question_id=int(q["id"]),
            correct=chosen.get(int(q["id"])) == q["answer"],
            correct_choice=q["answer"],
            explanation=q.get("explanation") or "",
            choice=chosen.get(int(q["id"])),
        )
        for q in questions
    ]
    return ScoredSubmission(score=sum(r.correct for r in results), total=len(results), results=results)


def public_question(question: Mapping) -> dict:
    """What a quiz taker sees before submitting: never the answer."""
    return {"id": int(question["id"]), "prompt": question["prompt"], "choices": list(question["choices"])}
