from django.core.validators import RegexValidator

from batches.validators import GS1_AI82

SERIAL_MAX_LENGTH = 20

validate_serial = RegexValidator(
    rf"^[{GS1_AI82}]{{1,{SERIAL_MAX_LENGTH}}}\Z",
    "1 to 20 characters of the GS1 AI 82 set (letters, digits and !\"%%&'()*+,-./:;<=>?_).",
    code="invalid_serial",
)
