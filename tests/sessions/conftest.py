import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Every test makes several users; the default PBKDF2 rounds would dominate the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
