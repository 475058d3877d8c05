"""Without DEBUG a missing page is the site's own 404 and a crash its own 500 — never
Django's debug pages — and every page carries the favicon."""

import pytest
from django.test import override_settings
from django.urls import path

from winwin_crm import urls as project_urls


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [*project_urls.urlpatterns, path("boom/", boom)]
handler404 = project_urls.handler404
handler500 = project_urls.handler500


@override_settings(DEBUG=False)
def test_a_missing_page_is_the_sites_404_not_the_debug_page(rep_client):
    response = rep_client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "We couldn't find that" in html and "Back to WinWin CRM" in html
    assert "URLconf" not in html and "Page not found at" not in html  # the debug page
    assert 'rel="icon"' in html


@override_settings(DEBUG=False)
def test_a_missing_record_is_the_same_404(rep_client):
    html = rep_client.get("/deals/999999999/").content.decode()
    assert "We couldn't find that" in html


@override_settings(DEBUG=False, ROOT_URLCONF=__name__)
def test_a_crash_is_the_sites_500_not_the_traceback(rep_client):
    rep_client.raise_request_exception = False
    response = rep_client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert "Traceback" not in html and "RuntimeError" not in html
    assert 'rel="icon"' in html and "favicon" in html


@pytest.mark.django_db
def test_the_favicon_exists_and_every_page_kind_links_it(client, settings):
    from django.contrib.staticfiles import finders

    assert finders.find("favicon.svg")
    html = client.get("/accounts/login/").content.decode()
    assert 'rel="icon"' in html
