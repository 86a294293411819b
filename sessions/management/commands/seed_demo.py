"""`manage.py seed_demo`: demo people, a study group and two question sets to click around with.

Idempotent: a second run finds everything in place, changes nothing and prints the same summary.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from groups.models import Group, Membership, Role
from groups.services import create_group
from questions.models import QuestionSet
from questions.selectors import quiz_path
from questions.services import create_question_set
from questions.validation import QuestionListField
from quizsite.rls import rls_bypass
from sessions.models import GroupSession, SessionType
from sessions.services import create_session, join_session, record_submission

DEMO_PASSWORD = "quizsite-demo"
SUPERUSER = "admin"
GROUP_OWNER = "alice"
GROUP_NAME = "Biology study group"
GROUP_DESCRIPTION = "Weekly revision quizzes before the biology exam."
GROUP_MEMBERS = [("bob", Role.ADMIN), ("carol", Role.MEMBER), ("dave", Role.MEMBER)]

QUESTION_SETS = [
    {
        "title": "Cell biology basics",
        "source_url": "https://en.wikipedia.org/wiki/Cell_(biology)",
        "questions": [
            {
                "prompt": "Which organelle produces most of a eukaryotic cell's ATP?",
                "choices": ["Nucleus", "Mitochondrion", "Golgi apparatus", "Lysosome"],
                "answer": 1,
                "explanation": "Mitochondria carry out aerobic respiration: the electron transport chain and ATP "
                "synthase in their inner membrane make most of the cell's ATP.",
            },
            {
                "prompt": "What forms the basic structure of the plasma membrane?",
                "choices": ["Cellulose", "Starch", "Keratin", "A phospholipid bilayer"],
                "answer": 3,
                "explanation": "Two layers of phospholipids, hydrophilic heads outward and hydrophobic tails inward, "
                "with proteins and cholesterol embedded in them (the fluid mosaic model).",
            },
            {
                "prompt": "Which of these structures is found in plant cells but not in animal cells?",
                "choices": ["Ribosome", "Cell wall", "Mitochondrion", "Plasma membrane"],
                "answer": 1,
                "explanation": "Plant cells are surrounded by a cell wall made mainly of cellulose. Ribosomes, "
                "mitochondria and a plasma membrane are found in both plant and animal cells.",
            },
            {
                "prompt": "Where in the cell are proteins assembled from amino acids?",
                "choices": ["Ribosomes", "Lysosomes", "Vacuoles", "Centrioles"],
                "answer": 0,
                "explanation": "Ribosomes translate messenger RNA into chains of amino acids. They float free in the "
                "cytoplasm or sit on the rough endoplasmic reticulum.",
            },
            {
                "prompt": "Which kind of cell has no membrane-bound nucleus?",
                "choices": ["Plant cells", "Fungal cells", "Prokaryotic cells", "Animal cells"],
                "answer": 2,
                "explanation": "Prokaryotes (bacteria and archaea) keep their DNA in a nucleoid region that is not "
                "enclosed by a membrane; plants, fungi and animals are eukaryotes.",
            },
            {
                "prompt": "In which phase of mitosis do sister chromatids separate and move to opposite poles?",
                "choices": ["Prophase", "Metaphase", "Anaphase", "Telophase"],
                "answer": 2,
                "explanation": "In anaphase the cohesin holding sister chromatids together is cut and spindle "
                "microtubules pull the chromatids to opposite poles of the cell.",
            },
        ],
    },
    {
        "title": "The French Revolution",
        "source_url": "https://en.wikipedia.org/wiki/French_Revolution",
        "questions": [
            {
                "prompt": "In which year was the Bastille stormed?",
                "choices": ["1776", "1789", "1799", "1815"],
                "answer": 1,
                "explanation": "Parisians stormed the Bastille fortress-prison on 14 July 1789; the date is now "
                "France's national day.",
            },
            {
                "prompt": "Which text, adopted in August 1789, declares that men are born and remain free and equal "
                "in rights?",
                "choices": [
                    "Magna Carta",
                    "The Declaration of the Rights of Man and of the Citizen",
                    "The Napoleonic Code",
                    "The Bill of Rights",
                ],
                "answer": 1,
                "explanation": "The National Constituent Assembly adopted the Declaration of the Rights of Man and of "
                "the Citizen on 26 August 1789.",
            },
            {
                "prompt": "Which King of France was executed by guillotine in January 1793?",
                "choices": ["Louis XIV", "Louis XV", "Louis XVI", "Charles X"],
                "answer": 2,
                "explanation": "The National Convention found Louis XVI guilty of conspiring against the nation; "
                "he was guillotined in Paris on 21 January 1793.",
            },
            {
                "prompt": "Which political club is most closely associated with Robespierre and the Reign of Terror?",
                "choices": ["The Girondins", "The Jacobins", "The Feuillants", "The Cordeliers"],
                "answer": 1,
                "explanation": "Robespierre led the Jacobins, who dominated the Committee of Public Safety during "
                "the Terror (1793-1794), which ended with his fall in July 1794 (Thermidor).",
            },
            {
                "prompt": "Who made up the Third Estate of the Estates-General?",
                "choices": ["The clergy", "The nobility", "The commoners", "The royal family"],
                "answer": 2,
                "explanation": "The First Estate was the clergy and the Second the nobility; the Third Estate was "
                "everyone else, the great majority of the people. In June 1789 its deputies declared "
                "themselves the National Assembly.",
            },
            {
                "prompt": "Who seized power in the coup of 18 Brumaire (November 1799), ending the Directory?",
                "choices": [
                    "Napoleon Bonaparte",
                    "Georges Danton",
                    "Maximilien Robespierre",
                    "The Marquis de Lafayette",
                ],
                "answer": 0,
                "explanation": "On 9 November 1799 (18 Brumaire, Year VIII) Napoleon Bonaparte overthrew the "
                "Directory and set up the Consulate, with himself as First Consul.",
            },
        ],
    },
]


class Command(BaseCommand):
    help = "Create demo users, a study group and question sets (safe to run again: it changes nothing)."

    def handle(self, *args, **options):
        # Seeding acts for everyone at once: a trusted context under the row-level security bypass.
        with rls_bypass("seed_demo"):
            with transaction.atomic():
                superuser = seed_superuser()
                people = seed_people()
                group = seed_group(owner=people[GROUP_OWNER], members=people)
                question_sets = seed_question_sets(owner=people[GROUP_OWNER])
                sessions = seed_demo_group_session(
                    group=group, question_sets=question_sets, created_by=people[GROUP_OWNER]
                )
            self.print_summary(superuser=superuser, people=people, group=group, question_sets=question_sets)
        self.stdout.write("Group sessions (sign in as a member of the group to join):")
        for session in sessions:
            self.stdout.write(f"  {session.title}: {settings.SITE_URL}{session.join_url}")

    def print_summary(self, *, superuser, people, group, question_sets):
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
        sign_in_url = settings.SITE_URL + reverse("accounts:login")
        self.stdout.write(f"Sign in at {sign_in_url} as (password for all: {DEMO_PASSWORD}):")
        roles = {membership.user_id: membership.role for membership in group.memberships.all()}
        for username, user in people.items():
            self.stdout.write(f"  {username:<8} {DEMO_PASSWORD}   {roles.get(user.pk, 'not a member')} of {group.name}")
        self.stdout.write(
            f"  {superuser.username:<8} {DEMO_PASSWORD}   superuser ({settings.SITE_URL}{reverse('admin:index')})"
        )
        self.stdout.write("Shared quizzes (no sign-in needed):")
        for question_set in question_sets:
            self.stdout.write(f"  {question_set.title}: {settings.SITE_URL}{quiz_path(question_set=question_set)}")


def _get_or_create_user(username: str, **flags):
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"email": f"{username}@example.com", **flags}
    )
    if created:
        # Only on creation: a second run must not re-hash (and so change) the password.
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def seed_superuser():
    return _get_or_create_user(SUPERUSER, is_staff=True, is_superuser=True)


def seed_people() -> dict:
    usernames = [GROUP_OWNER, *(username for username, _role in GROUP_MEMBERS)]
    return {username: _get_or_create_user(username) for username in usernames}


def seed_group(*, owner, members: dict) -> Group:
    group = Group.objects.filter(name=GROUP_NAME, created_by=owner).first()
    if group is None:
        group = create_group(name=GROUP_NAME, description=GROUP_DESCRIPTION, created_by=owner)
    # Rows, not add_member(): the demo must seed even if someone has since changed alice's role by hand,
    # and a role changed by hand is left as it is.
    for username, role in [(GROUP_OWNER, Role.OWNER), *GROUP_MEMBERS]:
        Membership.objects.get_or_create(group=group, user=members[username], defaults={"role": role})
    return group


def seed_question_sets(*, owner) -> list[QuestionSet]:
    question_sets = []
    for spec in QUESTION_SETS:
        question_set = QuestionSet.objects.filter(title=spec["title"], created_by=owner).first()
        if question_set is None:
            question_set = create_question_set(
                title=spec["title"],
                source_url=spec["source_url"],
                # The same rules the API applies, so demo data can never be something the API would refuse.
                questions=QuestionListField().run_validation(spec["questions"]),
                created_by=owner,
            )
        question_sets.append(question_set)
    return question_sets


def seed_demo_group_session(*, group: Group, question_sets: list[QuestionSet], created_by) -> list[GroupSession]:
    """An open session with one result in it and a scheduled one for tomorrow, made once.

    Everything goes through sessions.services, the same path the pages and the API take.
    """
    existing = list(group.sessions.order_by("created_at"))
    if existing:
        return existing
    owner = Membership.objects.select_related("group").get(group=group, user=created_by)
    warm_up = create_session(
        membership=owner,
        title="Warm-up: cell biology",
        session_type=SessionType.INSTANT,
        question_set=question_sets[0],
        loop_data={"mode": "until_mastered", "max_rounds": 3},
    )
    carol = get_user_model().objects.get(username="carol")
    join_session(user=carol, session=warm_up)
    # Carol gets all but the last question right, so the results page and the study loop have something to show.
    answers = [
        {
            "question_id": q["id"],
            "choice": q["answer"] if i < len(warm_up.questions_data) - 1 else (q["answer"] + 1) % len(q["choices"]),
        }
        for i, q in enumerate(warm_up.questions_data)
    ]
    record_submission(user=carol, session=warm_up, answers=answers)
    revision = create_session(
        membership=owner,
        title="Revision: the French Revolution",
        session_type=SessionType.SCHEDULED,
        question_set=question_sets[1],
        scheduled_at=timezone.now() + timedelta(days=1),
        duration_minutes=30,
    )
    return [warm_up, revision]
