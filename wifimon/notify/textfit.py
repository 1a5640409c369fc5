"""Making text fit a channel's limits: cut at a word with an ellipsis; SMS segments."""

from __future__ import annotations

# GSM 03.38 default alphabet (one septet each) and its extension table (two septets each)
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")
# characters wifimon's own texts use that would force a whole SMS into UCS-2
GSM_FRIENDLY = str.maketrans({"…": "...", "·": "-", "–": "-", "—": "-", "“": '"', "”": '"',
                              "‘": "'", "’": "'", "\t": " "})  # fmt: skip
SINGLE = {"gsm": 160, "ucs2": 70}  # characters (septets) in a one-part SMS
PART = {"gsm": 153, "ucs2": 67}  # per part of a concatenated SMS (the rest is the UDH)


def fit(text: str, limit: int, ellipsis: str = "…") -> str:
    """`text` if it fits, else cut at the last space before the limit, with an ellipsis."""
    if len(text) <= limit:
        return text
    room = limit - len(ellipsis)
    cut = text[:room]
    space = cut.rfind(" ")
    if space > room // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.\n") + ellipsis


def sms_encoding(text: str) -> str:
    return "gsm" if all(c in GSM_BASIC or c in GSM_EXTENDED for c in text) else "ucs2"


def sms_length(text: str) -> int:
    """Septets for GSM-7 text (extension characters take two), UTF-16 units for UCS-2."""
    if sms_encoding(text) == "gsm":
        return sum(2 if c in GSM_EXTENDED else 1 for c in text)
    return len(text.encode("utf-16-le")) // 2


def sms_segments(text: str) -> int:
    """How many SMS parts the text is sent as."""
    length, encoding = sms_length(text), sms_encoding(text)
    if length <= SINGLE[encoding]:
        return 1
    return -(-length // PART[encoding])


def sms_fit(text: str, max_segments: int) -> str:
    """The text made GSM-friendly and shortened to at most `max_segments` parts."""
    text = " ".join(line.strip() for line in text.translate(GSM_FRIENDLY).splitlines()
                    if line.strip())  # fmt: skip
    encoding = sms_encoding(text)
    limit = SINGLE[encoding] if max_segments == 1 else PART[encoding] * max_segments
    if sms_length(text) <= limit:
        return text
    ellipsis = "..." if encoding == "gsm" else "…"
    low, high = 0, len(text)
    while low < high:  # the longest cut that fits, measured as the network counts
        middle = (low + high + 1) // 2
        if sms_length(fit(text, middle, ellipsis)) <= limit:
            low = middle
        else:
            high = middle - 1
    return fit(text, low, ellipsis)
