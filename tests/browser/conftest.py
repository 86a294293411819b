import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's Chromium; Playwright's own browser download is impossible here.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    }


@pytest.fixture(autouse=True)
def _browser_tests_are_marked(request):
    request.node.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def _patient_expectations():
    """Playwright's 5 s default is tight on a loaded 2-core CI machine; waits end as soon as the page is ready."""
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
