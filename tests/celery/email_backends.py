"""An email backend whose server is down: every send raises, as smtplib does when it cannot connect."""

from django.core.mail.backends.base import BaseEmailBackend


class RefusingEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server is down")
