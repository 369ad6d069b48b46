import urllib.request

import pytest
from moto.server import ThreadedMotoServer

from auditor.demo.moto_trust import enforce_role_trust


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
