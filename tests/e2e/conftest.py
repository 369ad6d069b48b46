import urllib.request

import pytest
from moto.server import ThreadedMotoServer
from pytest_httpserver import HTTPServer

from auditor.demo.moto_trust import enforce_role_trust
from tests.doubles.datadog_double import API_KEY, APP_KEY, FakeDatadog


@pytest.fixture
def moto_server(monkeypatch):
    """A moto server over HTTP on loopback, reached the standard way (AWS_ENDPOINT_URL)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST")).read()
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    try:
        with enforce_role_trust():
            yield url
    finally:
        server.stop()


@pytest.fixture
def datadog(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> FakeDatadog:
    """The project's Datadog API double on loopback, with the keys in the environment as a user sets them."""
    monkeypatch.setenv("DD_API_KEY", API_KEY)
    monkeypatch.setenv("DD_APP_KEY", APP_KEY)
    fake = FakeDatadog(httpserver)
    fake.install()
    return fake
