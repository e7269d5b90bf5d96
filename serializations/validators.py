from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from stdnum import ean

from batches.validators import GS1_AI82

SERIAL_MAX_LENGTH = 20

validate_serial = RegexValidator(
    rf"^[{GS1_AI82}]{{1,{SERIAL_MAX_LENGTH}}}\Z",
    "1 to 20 characters of the GS1 AI 82 set (letters, digits and !\"%%&'()*+,-./:;<=>?_).",
    code="invalid_serial",
)

SSCC_LENGTH = 18
SSCC_INVALID = "Enter an SSCC: 18 digits with a valid GS1 check digit."


def check_digit(body: str) -> str:
    """The GS1 mod-10 check digit of ``body`` (an SSCC's first 17 digits, a GTIN's 13)."""
    return str(ean.calc_check_digit(body))


def is_valid_sscc(value: str) -> bool:
    return (
        len(value) == SSCC_LENGTH
        and value.isascii()
        and value.isdigit()
        and check_digit(value[:-1]) == value[-1]
    )


def validate_sscc(value: str) -> None:
    if not is_valid_sscc(value):
        raise ValidationError(SSCC_INVALID, code="invalid_sscc")
