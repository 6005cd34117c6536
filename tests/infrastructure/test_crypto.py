"""Token secrets are encrypted at rest, round-trip, rotate, and a wrong key fails loudly."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from apps.infrastructure import services
from apps.infrastructure.models import Cluster
from apps.infrastructure.rules import crypto
from tests.infrastructure.factories import DatacentreFactory

pytestmark = pytest.mark.django_db

SECRET = "3f1c2b9e-0d6a-4c8e-9b7a-1d2e3f405162"


def _raw_column(cluster: Cluster) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token_secret_encrypted FROM {Cluster._meta.db_table} WHERE id = %s", [cluster.pk])  # noqa: S608
        return cursor.fetchone()[0]


def _cluster() -> Cluster:
    return services.cluster_create(
        datacentre=DatacentreFactory(code="PAR-1"),
        name="par1",
        api_url="https://127.0.0.1:8006/api2/json",
        token_id="vmcloud@pve!portal",
        token_secret=SECRET,
    )


def test_secret_round_trips_and_the_column_is_not_plaintext():
    cluster = _cluster()
    raw = _raw_column(cluster)
    assert SECRET not in raw
    assert raw.startswith(crypto.PREFIX)
    assert Cluster.objects.get(pk=cluster.pk).get_token_secret() == SECRET


def test_two_encryptions_of_one_secret_differ():
    assert crypto.encrypt(SECRET) != crypto.encrypt(SECRET)


def test_wrong_key_raises_instead_of_returning_ciphertext(settings):
    cluster = _cluster()
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(crypto.DecryptionError):
        Cluster.objects.get(pk=cluster.pk).get_token_secret()


def test_rotation_keeps_old_values_readable_then_re_encrypts(settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old_key
    cluster = _cluster()
    settings.FIELD_ENCRYPTION_KEY = new_key
    settings.FIELD_ENCRYPTION_OLD_KEYS = [old_key]
    assert Cluster.objects.get(pk=cluster.pk).get_token_secret() == SECRET
    assert services.cluster_rotate_secrets() == 1
    settings.FIELD_ENCRYPTION_OLD_KEYS = []
    assert Cluster.objects.get(pk=cluster.pk).get_token_secret() == SECRET


def test_passphrase_keys_are_stretched(settings):
    settings.FIELD_ENCRYPTION_KEY = "a long passphrase, not a Fernet key"
    assert crypto.decrypt(crypto.encrypt(SECRET)) == SECRET
