from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from stdnum import ean
from stdnum.exceptions import ValidationError as StdnumValidationError

GTIN_INVALID = "Enter a GTIN-14: 14 digits with a valid GS1 check digit."

# GS1 AI-82 character set (the set allowed in AI 10, lot, and AI 21, serial).
GS1_AI82 = r"!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z"
validate_batch_number = RegexValidator(
    rf"^[{GS1_AI82}]{{1,20}}\Z",
    # ``%%``: the message is %-formatted with the value when it is shown.
    "1 to 20 characters of the GS1 AI 82 set (letters, digits and !\"%%&'()*+,-./:;<=>?_).",
    code="invalid_batch_number",
)

# Characters of the AI 82 set that make a spreadsheet read a cell as a formula. A new
# lot may not start with one, so the CSV export never has to alter a lot; the export
# still neutralises such cells for lots stored before this rule.
BATCH_NUMBER_FORMULA_STARTS = ("=", "+", "-")
BATCH_NUMBER_FORMULA = (
    "A batch number may not start with = + or - (spreadsheets read those as formulas)."
)


def validate_new_batch_number(value: str) -> None:
    if value.startswith(BATCH_NUMBER_FORMULA_STARTS):
        raise ValidationError(BATCH_NUMBER_FORMULA, code="batch_number_formula")


def validate_gtin(value: str) -> None:
    if not (isinstance(value, str) and len(value) == 14 and value.isascii() and value.isdigit()):
        raise ValidationError(GTIN_INVALID, code="invalid_gtin")
    try:
        ean.validate(value)
    except StdnumValidationError as exc:
        raise ValidationError(GTIN_INVALID, code="invalid_gtin") from exc
