"""What each beat of a short-form ad does: hook, problem, product, proof, offer, end card.

Chosen from the prompt's own words, deterministically: the first beat is the hook, the call to
action ("Shop now", "Order today", a URL) becomes the end card, and the beats between take the
role their cue words say (en, es, pt, fr, de; the analysis side reads ads with similar lists, but
render may not import analysis, so these are the renderer's own). Numbers, prices and discounts
are only ever taken from the prompt, never invented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    HOOK = "hook"
    PROBLEM = "problem"
    PRODUCT = "product"
    PROOF = "proof"
    OFFER = "offer"
    END_CARD = "end_card"


_WORD = r"(?<![\w])"  # a cue starts a word (\b fails before accented letters in some cues)

URL = re.compile(
    r"(?:https?://)?(?:www\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*"
    r"\.(?:com|net|org|io|co|shop|store|app|es|pt|br|fr|de|mx|ar|uk|eu|ai|me|tv)(?:/[^\s]*)?",
    re.IGNORECASE,
)

# Imperatives that ask the viewer to act now.
CTA = re.compile(
    _WORD + r"(shop|buy|order|get|grab|claim|try|download|sign up|join|book|subscribe|visit|"
    r"tap|click|swipe up|learn more|discover|start|"
    r"compra|compr[ae]|pide|pedí|consigue|consiga|prueba|descarga|reg[ií]strate|reserva|"
    r"suscr[ií]bete|visita|garanta|pe[çc]a|experimente|baixe|assine|"
    r"achetez|commandez|essayez|t[ée]l[ée]chargez|inscrivez-vous|r[ée]servez|profitez|"
    r"kauf|kaufen|bestell\w*|hol dir|sichere dir|teste|lade|buche|abonnier\w*|jetzt)(?!\w)"
    # Japanese, Chinese, Korean: no spaces, so no word boundaries either.
    r"|今すぐ|ご注文|注文|購入|お試し|ダウンロード|登録|立即|购买|下单|지금|구매|주문",
    re.IGNORECASE,
)

OFFER = re.compile(
    r"\d+\s?%|[$€£]\s?\d|\d\s?[$€£]|"
    + _WORD
    + r"(free|off|discount|save|sale|deal|code|coupon|shipping|trial|half price|"
    r"gratis|gr[aá]tis|descuento|desconto|oferta|c[oó]digo|env[ií]o|frete|promo\w*|"
    r"gratuit\w*|r[ée]duction|remise|soldes|livraison|"
    r"kostenlos|rabatt|angebot|gutschein|versandkostenfrei|versand)(?!\w)",
    re.IGNORECASE,
)

PROOF = re.compile(
    _WORD + r"(reviews?|customers?|rated|ratings?|stars?|proven|results?|sold|loved|award\w*|"
    r"tested|clinically|trusted|users|people|"
    r"rese[ñn]as?|client[ae]s?|estrellas|probad[oa]|resultados?|vendid[oa]s?|usuarios|"
    r"avalia[çc][õo]es|estrelas|comprovad[oa]|usu[áa]rios|"
    r"avis|clients?|[ée]toiles|prouv[ée]e?|r[ée]sultats?|vendus?|utilisateurs|"
    r"bewertungen|kunden|sterne|bewiesen|ergebnisse?|verkauft|nutzer)(?!\w)|★",
    re.IGNORECASE,
)

PROBLEM = re.compile(
    _WORD + r"(tired|sick of|struggl\w*|hate|problem|annoy\w*|frustrat\w*|can'?t|cannot|never|"
    r"worst|pain|hard|wast\w*|again|why|ugh|"
    r"cansad[oa]s?|hart[oa]s?|problemas?|odias?|nunca|otra vez|frustra\w*|"
    r"de novo|"
    r"marre|probl[eè]mes?|jamais|encore|fatigu[ée]e?s?|"
    r"m[üu]de|genervt|nervt|probleme?|nie|schon wieder)(?!\w)|[?¿？]",
    re.IGNORECASE,
)

PRODUCT = re.compile(
    _WORD + r"(introducing|meet|new|that'?s why|discover\w*|made (?:with|for)|designed|finally|"
    r"works?|helps?|it'?s called|built|"
    r"presentamos|conoce|nuev[oa]|descubr\w*|por eso|por fin|funciona|ayuda|"
    r"conhe[çc]a|apresentamos|nov[oa]|finalmente|"
    r"d[ée]couvr\w*|voici|nouve(?:au|lle)|enfin|c'est pourquoi|fonctionne|"
    r"entdeck\w*|neue?[nrs]?|endlich|deshalb|hilft|funktioniert)(?!\w)",
    re.IGNORECASE,
)

# A number as the prompt writes it: 10,000 / 10.000 / 4.8 / 4,8 / 98 — with an optional + or %
# or k/M right after it.
NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:[.,\u202f ]\d{3})+|\d+(?:[.,]\d+)?)\s?([kKmM]\b|\+|%)?")
_RATING_CONTEXT = re.compile(
    r"★|/\s?5|" + _WORD + r"(stars?|rated|estrellas|estrelas|[ée]toiles|sterne)", re.I
)
_PRICE = re.compile(r"[$€£]\s?\d+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?\s?[$€£]")
_PERCENT = re.compile(r"\d+\s?%")

# Shown on the end card when the prompt asks for nothing: a neutral invitation in its language.
DEFAULT_CTA = {
    "en": "Learn more",
    "es": "Descubre más",
    "pt": "Saiba mais",
    "fr": "En savoir plus",
    "de": "Mehr erfahren",
    "ja": "詳しくはこちら",
    "zh": "了解更多",
    "ko": "자세히 보기",
    "ar": "اعرف المزيد",
    "he": "למידע נוסף",
    "ru": "Подробнее",
    "el": "Μάθετε περισσότερα",
}
_LANGUAGE_WORDS = {
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "del",
            "que",
            "con",
            "para",
            "por",
            "una",
            "es",
            "y",
            "tu",
            "tus",
            "más",
            "muy",
        ]
    ),
    "pt": frozenset(
        [
            "o",
            "os",
            "as",
            "do",
            "da",
            "que",
            "com",
            "para",
            "uma",
            "é",
            "e",
            "seu",
            "sua",
            "você",
            "mais",
            "muito",
            "não",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "les",
            "des",
            "du",
            "que",
            "avec",
            "pour",
            "une",
            "est",
            "et",
            "vous",
            "votre",
            "plus",
            "très",
            "pas",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "und",
            "mit",
            "für",
            "ein",
            "eine",
            "ist",
            "nicht",
            "du",
            "dein",
            "mehr",
            "sehr",
            "auf",
        ]
    ),
    "en": frozenset(
        ["the", "and", "with", "for", "a", "is", "you", "your", "more", "very", "not", "to", "of"]
    ),
}


# Scripts that name their language well enough for an end card's words, checked in this order
# (kana before Han: Japanese is written with both).
_SCRIPT_LANGUAGES = (
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
)


def prompt_language(text: str) -> str:
    """The prompt's language: by its script when most letters are not Latin (ja, zh, ko, ar, he,
    ru, el), else among en/es/pt/fr/de by common-word counts (en on a tie)."""
    letters = [ch for ch in text if ch.isalpha()]
    latin = sum(ch.isascii() or "\u00c0" <= ch <= "\u024f" for ch in letters)
    if letters and latin * 2 < len(letters):
        for language, script in _SCRIPT_LANGUAGES:
            if script.search(text):
                return language
    words = re.findall(r"\w+", text.lower())
    scores = {lang: sum(w in common for w in words) for lang, common in _LANGUAGE_WORDS.items()}
    best = max(scores.values())
    return "en" if best == 0 or scores["en"] == best else max(scores, key=lambda k: scores[k])


def is_call_to_action(text: str) -> bool:
    """An imperative that asks to act, or a URL to go to."""
    return bool(CTA.search(text) or URL.search(text))


def role_of(text: str, position: int) -> Role:
    """The role of one body beat (not the end card): the first is always the hook."""
    if position == 0:
        return Role.HOOK
    if OFFER.search(text):
        return Role.OFFER
    if proof_figure(text) is not None or (PROOF.search(text) and not PROBLEM.search(text)):
        return Role.PROOF
    if PROBLEM.search(text):
        return Role.PROBLEM
    return Role.PRODUCT  # a line with no cue presents what the ad sells


@dataclass(frozen=True)
class Figure:
    """A number the proof scene counts up to, exactly as the prompt gave it."""

    value: float
    decimals: int
    thousands: str  # the separator the prompt used ("," "." " " or "")
    decimal_mark: str
    suffix: str  # "+", "%", "k", "M" or ""
    stars: bool  # a rating out of five: drawn with stars

    def format(self, value: float) -> str:
        """value written the prompt's way (a count-up passes through these)."""
        text = f"{value:,.{self.decimals}f}"
        text = text.replace(",", "\x00").replace(".", self.decimal_mark)
        return text.replace("\x00", self.thousands) + self.suffix


def _figure(match: re.Match[str], text: str) -> Figure:
    digits, suffix = match.group(1), match.group(2) or ""
    grouped = re.fullmatch(r"\d{1,3}(?:([.,\u202f ])\d{3})+", digits)
    if grouped:
        thousands, decimal_mark, decimals = (
            grouped.group(1),
            "," if grouped.group(1) == "." else ".",
            0,
        )
        value = float(re.sub(r"\D", "", digits))
    else:
        mark = "," if "," in digits else "."
        whole, _, fraction = digits.partition(mark)
        thousands, decimal_mark, decimals = "", mark, len(fraction)
        value = float(f"{whole}.{fraction}" if fraction else whole)
    stars = bool(_RATING_CONTEXT.search(text)) and 0 < value <= 5 and not suffix
    return Figure(value, decimals, thousands, decimal_mark, suffix, stars)


def proof_figure(text: str) -> Figure | None:
    """The proof number of a beat (a rating, a count, a percentage), or None if it has none.

    A price or a discount is an offer, not proof, and a number without a proof word nearby is
    just a number ("3 colours"), so neither counts.
    """
    if not PROOF.search(text):
        return None
    priced = {m.start() for m in _PRICE.finditer(text)}
    for match in NUMBER.finditer(text):
        if any(abs(match.start() - p) <= 2 for p in priced):
            continue
        return _figure(match, text)
    return None


def offer_badge(text: str) -> str | None:
    """What the offer badge says: the prompt's discount ("50% OFF") or price, or None."""
    percent = _PERCENT.search(text)
    if percent:
        return percent.group(0).replace(" ", "")
    price = _PRICE.search(text)
    return price.group(0).replace(" ", "") if price else None


def call_to_action_label(text: str, language: str) -> str:
    """A button's words: the imperative phrase of text ("Grab yours today"), else the default.

    The label runs from the imperative to the next clause mark or conjunction, at most four
    words, without a URL (shown under the button instead).
    """
    match = CTA.search(URL.sub(" ", text))
    if match is None:
        return DEFAULT_CTA.get(language, DEFAULT_CTA["en"])
    rest = URL.sub(" ", text)[match.start() :]
    clause = re.split(
        r"[,;:.!?¡¿—–。、！？]| and | y | e | et | und | at | en | em | auf | on ", rest
    )[0]
    label = " ".join(clause.split()[:4])
    return label[:1].upper() + label[1:] if label else DEFAULT_CTA.get(language, DEFAULT_CTA["en"])


def call_to_action_url(text: str) -> str | None:
    """The URL the prompt gives, shown under the button (scheme dropped: it reads better)."""
    match = URL.search(text)
    if match is None:
        return None
    return re.sub(r"^https?://", "", match.group(0)).rstrip("/.,!")


_NAMED = re.compile(
    r"(?i:\b(?:meet|introducing|say hello to|presentamos|conoce|conhe[çc]a|apresentamos|"
    r"d[ée]couvrez|voici|entdecke|das ist))\s+"
    r"(?i:(?:the|el|la|los|o|a|le|les|die|der|das|den)\s+)?"
    r"(?i:(?:new|nuev[oa]|nov[oa]|nouve(?:au|lle)|neuen?|neues)\s+)?"
    r"(\w[\w'’&-]*(?:\s+[A-Z0-9][\w'’&-]*){0,2})"
)


def brand_name(prompt: str) -> str | None:
    """The brand the prompt's address spells ("heatmug.com" -> "HeatMug" when the prompt writes
    it so, else "Heatmug"), or None without an address."""
    match = URL.search(prompt)
    if match is None:
        return None
    host = re.sub(r"^(?:https?://)?(?:www\.)?", "", match.group(0), flags=re.IGNORECASE)
    stem = host.split(".")[0]
    for word in re.findall(r"[\w'’&-]+", URL.sub(" ", prompt)):
        if word.casefold() == stem.casefold():
            return str(word)
    return stem[:1].upper() + stem[1:] if stem else None


def product_name(prompt: str) -> str | None:
    """The name the prompt introduces ("Meet Brewly" -> "Brewly"), shown on the end card.

    Only a capitalised name counts: "meet the team" names nothing.
    """
    for match in _NAMED.finditer(prompt):
        name = match.group(1).strip(" ,.'’-")
        if name[:1].isupper() or name[:1].isdigit():
            return name
    return None
