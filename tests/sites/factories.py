import factory
from stdnum import ean

from sites.models import Site


def _gln(n: int) -> str:
    body = f"40{n:010d}"
    return body + ean.calc_check_digit(body)


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    code = factory.Sequence(lambda n: f"S{n:03d}-X")
    name = factory.Sequence(lambda n: f"Plant {n}")
    gln = factory.Sequence(_gln)
    country = "DE"
    timezone = "Europe/Berlin"
