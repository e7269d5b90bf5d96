import pytest
from django.core.management import call_command

from serializations.models import SerialNumber

pytestmark = pytest.mark.django_db


def test_demo_serials_are_generated_once_and_verifiable(capsys):
    call_command("seed_demo", admin_password="demo-admin-password-1")
    call_command("seed_demo_serials")
    call_command("seed_demo_serials")

    assert SerialNumber.objects.filter(batch__batch_number="L2026-002").count() == 1_000
    out = capsys.readouterr().out
    assert "Demo serials: 1000 for batch L2026-002" in out
    code = out.strip().splitlines()[-1].split("code=", 1)[1]
    serial = SerialNumber.objects.filter(batch__batch_number="L2026-002").order_by("id").first()
    assert code.startswith(f"(01){serial.gtin}(21){serial.serial}(10)L2026-002(17)")


def test_without_demo_data_it_says_so(capsys):
    call_command("seed_demo_serials")

    assert "run seed_demo first" in capsys.readouterr().out
    assert not SerialNumber.objects.exists()
