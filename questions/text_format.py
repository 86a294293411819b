"""The plain text question format people type into the create-session form.

    What is the capital of France?
    Lyon
    * Paris
    Marseille
    > Paris has been the capital since 987.

    Which gas do plants take in?
    * Carbon dioxide
    Oxygen

A question is a prompt line followed by its choice lines; `*` at the start of a line marks the right
choice; optional `>` lines after the choices hold the explanation; a blank line separates questions.
A line that really starts with `*` or `>` can be written with a backslash (`\\*`, `\\>`).

The contract's rules for a question (lengths, unique choices, 2..10 choices, 1..200 questions) are the
ones of `questions.validation`; this module only adds the structure and says which line is wrong, so a
person can fix their text instead of guessing.
"""

from dataclasses import dataclass, field

from questions.validation import MAX_CHOICES, MAX_QUESTIONS, QuestionInputSerializer

CORRECT_MARK = "*"
EXPLANATION_MARK = ">"
ESCAPE = "\\"


class QuestionTextError(ValueError):
    """The text cannot be read as questions; `line` is the 1-based line to fix."""

    def __init__(self, message: str, *, line: int):
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"Line {self.line}: {self.message}"


@dataclass
class _Block:
    prompt_line: int
    prompt: str
    choices: list[tuple[int, str]] = field(default_factory=list)
    answer_line: int | None = None
    explanation: list[tuple[int, str]] = field(default_factory=list)


def parse_questions_text(text: str) -> list[dict]:
    """Questions as the API takes them: [{"prompt", "choices", "answer", "explanation"}].

    Raises QuestionTextError pointing at the first line that breaks a rule.
    """
    blocks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            if current:
                blocks.append(current)
                current = []
            continue
        current.append((number, line))
    if current:
        blocks.append(current)

    if not blocks:
        raise QuestionTextError(
            "Write at least one question: a question line, then its choices, with * before the right one.", line=1
        )
    if len(blocks) > MAX_QUESTIONS:
        raise QuestionTextError(
            f"A session holds at most {MAX_QUESTIONS} questions; this is question {MAX_QUESTIONS + 1}.",
            line=blocks[MAX_QUESTIONS][0][0],
        )
    return [_validated(_read_block(lines)) for lines in blocks]


def _unescape(line: str) -> str:
    if line[:2] in (ESCAPE + CORRECT_MARK, ESCAPE + EXPLANATION_MARK):
        return line[1:]
    return line


def _read_block(lines: list[tuple[int, str]]) -> _Block:
    prompt_line, prompt = lines[0]
    if prompt.startswith(CORRECT_MARK):
        raise QuestionTextError(
            "A question starts with its question line; the choices (one marked with *) go on the lines below it.",
            line=prompt_line,
        )
    if prompt.startswith(EXPLANATION_MARK):
        raise QuestionTextError(
            "An explanation (a line starting with >) goes after the choices of a question.", line=prompt_line
        )
    block = _Block(prompt_line=prompt_line, prompt=_unescape(prompt))

    for number, line in lines[1:]:
        if line.startswith(EXPLANATION_MARK):
            block.explanation.append((number, line[len(EXPLANATION_MARK) :].strip()))
            continue
        if block.explanation:
            raise QuestionTextError("After the explanation, leave a blank line before the next question.", line=number)
        if line.startswith(CORRECT_MARK):
            if block.answer_line is not None:
                raise QuestionTextError(
                    f"Only one choice can be marked with *; line {block.answer_line} is already marked.", line=number
                )
            choice = line[len(CORRECT_MARK) :].strip()
            if not choice:
                raise QuestionTextError("Write the choice after the *.", line=number)
            block.answer_line = number
        else:
            choice = _unescape(line)
        if len(block.choices) == MAX_CHOICES:
            raise QuestionTextError(f"A question has at most {MAX_CHOICES} choices.", line=number)
        for earlier_number, earlier in block.choices:
            if earlier == choice:
                raise QuestionTextError(
                    f"This choice is the same as the one on line {earlier_number}; choices must differ.", line=number
                )
        block.choices.append((number, choice))

    if len(block.choices) < 2:
        raise QuestionTextError(
            "Give this question at least 2 choices, one per line below it, with * before the right one.",
            line=prompt_line,
        )
    if block.answer_line is None:
        raise QuestionTextError("Mark the right choice with a * at the start of its line.", line=prompt_line)
    return block


def _validated(block: _Block) -> dict:
    """The contract's own question rules, with each message sent back to the line it is about."""
    answer = next(i for i, (number, _) in enumerate(block.choices) if number == block.answer_line)
    serializer = QuestionInputSerializer(
        data={
            "prompt": block.prompt,
            "choices": [choice for _, choice in block.choices],
            "answer": answer,
            "explanation": "\n".join(text for _, text in block.explanation),
        }
    )
    if serializer.is_valid():
        return dict(serializer.validated_data)

    errors = serializer.errors
    if "prompt" in errors:
        raise QuestionTextError(_first(errors["prompt"]), line=block.prompt_line)
    if "choices" in errors:
        choice_errors = errors["choices"]
        if isinstance(choice_errors, dict):
            index = min(int(i) for i in choice_errors)
            raise QuestionTextError(_first(choice_errors[index]), line=block.choices[index][0])
        raise QuestionTextError(_first(choice_errors), line=block.choices[0][0])
    if "explanation" in errors:
        raise QuestionTextError(_first(errors["explanation"]), line=block.explanation[0][0])
    raise QuestionTextError(_first(next(iter(errors.values()))), line=block.prompt_line)


def _first(messages) -> str:
    if isinstance(messages, dict):
        messages = next(iter(messages.values()))
    return str(messages[0]) if isinstance(messages, list | tuple) else str(messages)


def format_questions_text(questions: list[dict]) -> str:
    """The text a list of questions would be written as (round-trips through parse_questions_text)."""
    blocks = []
    for question in questions:
        # One line per prompt and choice is what the format can hold.
        lines = [_escape(" ".join(question["prompt"].split()))]
        for index, choice in enumerate(question["choices"]):
            lines.append(f"{CORRECT_MARK} {choice}" if index == question["answer"] else _escape(choice))
        for line in (question.get("explanation") or "").splitlines():
            lines.append(f"{EXPLANATION_MARK} {line}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _escape(line: str) -> str:
    if line.startswith((CORRECT_MARK, EXPLANATION_MARK)):
        return ESCAPE + line
    return line
