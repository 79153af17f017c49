"""P-09: TLS to the broker; an untrusted certificate is refused, a pinned CA is accepted."""

from __future__ import annotations

import ssl

import pytest
import trustme

from tenant_security_proxy.broker_client import BrokerClient, BrokerUnavailableError
from tests.fakes.broker import FakeBroker, World
from tests.proxy.conftest import run


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture
def tls_broker(ca):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    world = World()
    broker = FakeBroker(world, tls=context).start()
    yield world, broker
    broker.stop()


def test_a_broker_with_an_untrusted_certificate_is_refused(tls_broker):
    world, broker = tls_broker
    client = BrokerClient(
        broker.url, cluster_id=world.cluster_id, signing_key=world.cluster.signing_key
    )
    with pytest.raises(BrokerUnavailableError):
        run(client.bundles(None, None, 10))
    assert broker.requests == []


def test_the_pinned_broker_ca_is_trusted(tls_broker, ca, tmp_path):
    world, broker = tls_broker
    ca_file = tmp_path / "broker-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    client = BrokerClient(
        broker.url,
        cluster_id=world.cluster_id,
        signing_key=world.cluster.signing_key,
        ca_file=str(ca_file),
    )
    assert run(client.bundles(None, None, 10)).status == 200
