"""The offer, measured: what the ad sells, at what price and discount, with what proof, where.

Read from the on-screen text spans and the confident transcript lines, in English, Spanish,
Portuguese, French and German. Every fact quotes the text it was found in (``text``: the words
matched, ``quote``: the whole span or spoken line) and says when (``times_s``) and where
(``source``: ``spoken``, ``on_screen`` or ``both``); nothing is inferred beyond what is written or
said. The same fact said and shown is one fact with ``source`` ``both``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from knightvision.providers.transcription.port import Transcript


def fold(text: str) -> str:
    """Lower case without accents, for comparing names and words."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("ß", "ss"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# --- vocabularies (EN, ES, PT, FR, DE) -------------------------------------------------------

_TLDS = (
    "com|net|org|io|co|app|shop|store|online|site|ai|me|tv|es|pt|br|fr|de|at|ch|mx|ar|cl|uk|us"
    "|ca|eu|it|nl|be"
)
URL = re.compile(
    rf"(?<![@\w.])(?:https?://)?(?:www\.)?(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_TLDS})"
    r"(?:\.[a-z]{2})?(?:/[^\s,;!?\"')]*)?(?![\w@])",
    re.IGNORECASE,
)
HANDLE = re.compile(r"(?<![\w.])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?")
#: a web address as said: "heatmug dot com", "punto com", "ponto com", "point com", "punkt de"
_SPOKEN_URL = re.compile(
    rf"\b((?:www\s+(?:dot|punto|ponto|point|punkt)\s+)?[a-z0-9-]+)\s+"
    rf"(?:dot|punto|ponto|point|punkt)\s+({_TLDS})"
    r"(?:\s+(?:dot|punto|ponto|point|punkt)\s+([a-z]{2}))?\b",  # "ponto com ponto br"
    re.IGNORECASE,
)

_NUMBER = r"\d{1,3}(?:[.,\s]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_CURRENCY_BEFORE = r"(?:R\$|US\$|\$|€|£|EUR\s?|USD\s?|CHF\s?)"
_CURRENCY_AFTER = r"(?:\s?(?:€|\$|£|R\$|EUR|USD|CHF|euros?|dólares|dollars?|reais|Euro)\b|\s?€)"
_PRICE = re.compile(
    rf"(?P<before>{_CURRENCY_BEFORE})\s?(?P<a>{_NUMBER})|(?P<b>{_NUMBER})(?P<after>{_CURRENCY_AFTER})",
    re.IGNORECASE,
)
_DISCOUNT_WORDS = (
    r"off|discount|descuento|de\s+descuento|dto\.?|desconto|de\s+desconto|off!?|de\s+réduction"
    r"|réduction|de\s+remise|remise|rabatt|reduziert|günstiger"
)
_SAVE_WORDS = (
    r"save|saving|ahorra|ahorre|ahorras|economiza|economize|économisez|économise|spare|spar|sparen"
    r"|sparst"
)
_UP_TO = r"(?:up\s+to|hasta|até|jusqu'à|jusqu’à|bis\s+zu)\s+"
#: a percent sign, or the word as speech recognition writes it ("20 Prozent Rabatt")
_PERCENT = (
    r"(?:\s?%|\s+(?:percent|per\s+cent|por\s+ciento|por\s+cento|pour\s+cent|pourcent|prozent))"
)
_DISCOUNT = re.compile(
    rf"(?P<minus>[-−–]\s?(?P<p1>\d{{1,2}}(?:[.,]\d)?){_PERCENT})"
    rf"|(?:{_UP_TO})?(?P<p2>\d{{1,2}}(?:[.,]\d)?){_PERCENT}\s?(?:{_DISCOUNT_WORDS})\b"
    rf"|(?:descuento|desconto|réduction|remise|rabatt)\s+(?:de\s+|von\s+)?(?P<p4>\d{{1,2}}(?:[.,]\d)?)"
    rf"{_PERCENT}"
    rf"|(?:{_SAVE_WORDS})\s+(?:(?:sie|un)\s+)?(?:{_UP_TO})?(?:un\s+)?(?:(?P<p3>\d{{1,2}}(?:[.,]\d)?){_PERCENT}"
    rf"|(?P<money>{_CURRENCY_BEFORE}\s?(?:{_NUMBER})|(?:{_NUMBER}){_CURRENCY_AFTER}))",
    re.IGNORECASE,
)
_FREE_SHIPPING = re.compile(
    r"free\s+(?:shipping|delivery)|ships?\s+free|env[ií]o\s+gratis|env[ií]os\s+gratis"
    r"|env[ií]o\s+gratuito|frete\s+gr[aá]tis|entrega\s+gr[aá]tis|entrega\s+gratuita"
    r"|env[ií]os?\s+gratuitos?|frete\s+gratuito"
    r"|livraison\s+(?:gratuite|offerte)|frais\s+de\s+(?:port|livraison)\s+offerts"
    # German writes it as a phrase or as one word ("Gratisversand", "Gratis-Versand")
    r"|(?:kostenlose[rn]?|kostenfreie[rn]?|gratis)[\s-]?(?:versand|lieferung)"
    r"|versandkostenfrei|(?:versand|lieferung)\s+(?:kostenlos|gratis)",
    re.IGNORECASE,
)
_FREE_TRIAL = re.compile(
    r"free\s+trial|try\s+(?:it\s+)?(?:for\s+)?free|prueba\s+(?:gratis|gratuita)"
    r"|pru[eé]balo\s+gratis|teste\s+gr[aá]tis|teste\s+gratuito|avalia[cç][aã]o\s+gratuita"
    r"|experimente\s+gr[aá]tis|essai\s+gratuit|essayez\s+gratuitement|kostenlos\s+testen"
    r"|gratis\s+testen|kostenlose\s+testversion|testversion",
    re.IGNORECASE,
)
_FREE = re.compile(
    r"\b(?:free|gratis|gr[aá]tis|gratuit[oae]?s?|gratuitement|kostenlos(?:e[nrs]?)?|offert)\b",
    re.IGNORECASE,
)
_CODE = re.compile(
    r"\b(?:promo\s*code|discount\s+code|coupon(?:\s+code)?|code(?:\s+promo)?|c[oó]digo"
    r"(?:\s+(?:promocional|de\s+descuento|de\s+desconto))?|cup[oó]n|cupom|gutscheincode"
    r"|rabattcode|gutschein|code\s+de\s+r[ée]duction)\s*:?\s+(?P<code>[A-Za-z0-9]{3,20})\b",
    re.IGNORECASE,
)
_RATING = re.compile(
    r"(?P<r1>[1-5](?:[.,]\d)?)\s?(?:/\s?5|out\s+of\s+5|de\s+5|sur\s+5|von\s+5)?\s?"
    r"(?:★+\s?)?(?:stars?|estrellas|estrelas|étoiles|sterne(?:n)?)\b"
    r"|(?P<r2>[1-5](?:[.,]\d)?)\s?/\s?5\b"
    r"|(?P<r4>[1-5](?:[.,]\d)?)\s?[★⭐]+"  # "4,8 ★", "4.8★★★★★"
    r"|[★⭐]\s?(?P<r5>[1-5][.,]\d)\b"  # "★ 4,8"
    r"|(?:rated|valorad[oa]|avaliad[oa]|not[ée]e?|bewertet\s+mit)\s+(?P<r3>[1-5](?:[.,]\d)?)"
    r"|(?P<stars>[★⭐]{3,5})",
    re.IGNORECASE,
)
_COUNT_NOUNS = {
    "users": "user_count", "customers": "user_count", "clients": "user_count",
    "people": "user_count", "members": "user_count", "buyers": "user_count",
    "downloads": "user_count", "orders": "user_count", "sold": "user_count",
    "clientes": "user_count", "usuarios": "user_count", "usuários": "user_count",
    "personas": "user_count", "pessoas": "user_count", "descargas": "user_count",
    "utilisateurs": "user_count", "personnes": "user_count", "téléchargements": "user_count",
    "nutzer": "user_count", "kunden": "user_count", "menschen": "user_count",
    "reviews": "review_count", "ratings": "review_count", "reseñas": "review_count",
    "opiniones": "review_count", "valoraciones": "review_count", "avaliações": "review_count",
    "avis": "review_count", "bewertungen": "review_count", "rezensionen": "review_count",
}  # fmt: skip
_MULTIPLIERS = {
    "k": 1_000, "thousand": 1_000, "mil": 1_000, "tausend": 1_000,
    "m": 1_000_000, "mio": 1_000_000, "million": 1_000_000, "millions": 1_000_000,
    "millón": 1_000_000, "millones": 1_000_000, "milhão": 1_000_000, "milhões": 1_000_000,
    "millionen": 1_000_000, "mln": 1_000_000, "mille": 1_000,
}  # fmt: skip
#: small numbers as words, read only before a multiplier ("ten thousand", "un millón")
_NUMBER_WORDS = {
    "a": 1, "one": 1, "two": 2, "three": 3, "five": 5, "ten": 10, "twenty": 20, "fifty": 50,
    "hundred": 100, "un": 1, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cinco": 5, "diez": 10,
    "cien": 100, "um": 1, "dois": 2, "três": 3, "dez": 10, "cem": 100, "deux": 2, "trois": 3,
    "cinq": 5, "dix": 10, "cent": 100, "eine": 1, "einer": 1, "zwei": 2, "drei": 3, "fünf": 5,
    "zehn": 10, "hundert": 100,
}  # fmt: skip
_MULTIPLIER = r"thousand|mil|mille|tausend|millions?|millón|millones|milhão|milhões|millionen"
_COUNT = re.compile(
    rf"(?:(?P<n>{_NUMBER})\s?(?P<mult>k|m|mio\.?|mln\.?|{_MULTIPLIER})?"
    rf"|\b(?P<w>{'|'.join(_NUMBER_WORDS)})\s+(?P<wmult>{_MULTIPLIER}))"
    r"\s?\+?\s+(?:de\s+|d')?(?:(?P<adj>[^\W\d]+)\s+)?"
    rf"(?P<noun>{'|'.join(sorted({n.rstrip('.') for n in _COUNT_NOUNS}, key=len, reverse=True))})"
    r"\b",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"[\"“”«„]\s?(?P<q>[^\"“”«»„]{12,200}?)\s?[\"“”»]")


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: product category words, as stated (singular and plural, five languages)
CATEGORY_WORDS = _word_set(
    """
    mug mugs cup cups bottle bottles shoe shoes sneakers boots shirt shirts dress dresses jacket
    hoodie leggings bag bags backpack watch watches glasses sunglasses ring necklace earrings
    headphones earbuds speaker phone case charger camera laptop tablet lamp chair mattress pillow
    blanket sheets towel sofa desk app apps game course courses subscription plan insurance
    serum cream moisturizer shampoo conditioner lotion sunscreen perfume fragrance makeup mascara
    lipstick toothbrush toothpaste razor supplement supplements vitamins protein coffee tea snack
    snacks drink drinks juice wine beer brew food meals pet dog cat toy toys vacuum blender kettle
    pan pans knife knives
    taza tazas vaso botella zapatillas zapatos camiseta vestido chaqueta bolso mochila reloj gafas
    auriculares altavoz funda cargador silla colchón almohada manta curso cursos suscripción seguro
    crema champú perfume maquillaje cepillo vitaminas proteína café té comida juguete aspiradora
    licuadora sartén
    caneca copo garrafa tênis sapatos camisa vestido jaqueta bolsa mochila relógio óculos fones
    capinha carregador cadeira colchão travesseiro cobertor assinatura seguro creme xampu batom
    escova vitaminas proteína comida brinquedo aspirador liquidificador panela
    tasse gobelet bouteille chaussures baskets chemise robe veste sac montre lunettes écouteurs
    coque chargeur chaise matelas oreiller couverture cours abonnement assurance crème sérum
    shampooing parfum maquillage brosse vitamines protéine nourriture jouet aspirateur mixeur poêle
    becher tasse flasche schuhe turnschuhe hemd kleid jacke tasche rucksack uhr brille kopfhörer
    hülle ladegerät stuhl matratze kissen decke kurs abo versicherung creme serum shampoo parfüm
    zahnbürste vitamine kaffee tee spielzeug staubsauger mixer pfanne
    """
)
_CATEGORIES_FOLDED = frozenset(fold(w) for w in CATEGORY_WORDS)
#: capitalised words that are not names (sentence openers, CTA and offer words)
_NOT_NAMES = _word_set(
    """
    the a an and or but so if it its this that these those we you your our my i he she they them
    meet get buy shop order try join sign use visit download install discover save free new now
    today only just why what how who when where here there all every more most best no not yes
    off order start stop tired love loved made make keep keeps with for from to of on in at by up
    el la los las un una y o pero si este esta estos nuestro nuestra tu tus su mi yo nosotros
    compra compre pide pídelo pidelo descubre prueba consigue ahora hoy gratis nuevo nueva envío
    o a os as um uma e mas se este esta nosso nossa seu sua meu eu compre peça peca descubra
    experimente agora hoje grátis novo nova frete
    le la les un une et ou mais si ce cette ces notre nos votre vos mon je nous achetez commandez
    découvrez essayez maintenant aujourd gratuit nouveau nouvelle livraison
    der die das ein eine und oder aber wenn dieser diese unser unsere dein deine ihr ihre mein ich
    wir jetzt heute kostenlos neu neue kaufen bestellen entdecke entdecken teste testen
    """
)
_NAME = re.compile(r"\b[A-ZÀ-Ý][a-zà-ÿ]*[A-ZÀ-Ý][A-Za-zà-ÿ]*\b|\b[A-ZÀ-Ý][a-zà-ÿ]{2,}\b")


@dataclass(frozen=True)
class Line:
    """A piece of text the offer is read from: an on-screen span or a spoken line."""

    text: str
    time_s: float | None
    source: str  # "spoken" | "on_screen"
    word_times: tuple[tuple[str, float], ...] = ()  # spoken words and their start times


def lines_from(transcript: Transcript, on_screen_text: list[dict[str, Any]]) -> list[Line]:
    """Spoken lines (confident transcript segments, with their word times) and on-screen spans."""
    lines: list[Line] = []
    if transcript.transcribable:
        for segment in transcript.segments:
            if segment.get("low_confidence") or not str(segment.get("text", "")).strip():
                continue
            start, end = float(segment["start"]), float(segment["end"])
            words = tuple(
                (str(w["word"]), float(w["start"]))
                for w in transcript.words
                if start - 0.05 <= float(w["start"]) <= end + 0.05
            )
            lines.append(Line(str(segment["text"]).strip(), start, "spoken", words))
        if not transcript.segments and transcript.text.strip():
            lines.append(Line(transcript.text.strip(), None, "spoken"))
    for span in on_screen_text:
        lines.append(Line(str(span["text"]).strip(), float(span["start_s"]), "on_screen"))
    return lines


def parse_number(text: str) -> float:
    """``29.99``, ``29,99``, ``20,000``, ``20.000``, ``20 000``, ``1.234,5`` as numbers."""
    text = text.strip().replace("\u00a0", " ").replace(" ", "")
    separators = [i for i, c in enumerate(text) if c in ".,"]
    if not separators:
        return float(text)
    last = separators[-1]
    decimals = len(text) - last - 1
    if decimals == 3 and len({text[i] for i in separators}) == 1:
        # a thousands separator: "20,000", "20.000", "1.000.000"
        return float(re.sub(r"[.,]", "", text))
    whole = re.sub(r"[.,]", "", text[:last])
    return float(f"{whole}.{text[last + 1 :]}")


_CURRENCIES = {
    "$": "USD", "us$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD", "dólares": "USD",
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "£": "GBP", "r$": "BRL",
    "reais": "BRL", "chf": "CHF",
}  # fmt: skip


def _currency(symbol: str) -> str | None:
    return _CURRENCIES.get(symbol.strip().lower())


def _money(text: str) -> dict[str, Any] | None:
    match = _PRICE.search(text)
    if not match:
        return None
    number = match.group("a") or match.group("b")
    symbol = match.group("before") or match.group("after")
    return {"amount": parse_number(number), "currency": _currency(symbol)}


# --- one fact per match --------------------------------------------------------------------


@dataclass
class _Hit:
    kind: str  # brand, product, category, discount, ...
    group: str  # brand, product, sold, offers, proof, links
    value: Any  # normalised: what makes two hits the same fact
    text: str  # the words matched, as written or said
    extra: dict[str, Any]


def _offers(text: str) -> Iterator[_Hit]:
    taken: list[tuple[int, int]] = []
    for match in _DISCOUNT.finditer(text):
        percent = next((p for p in match.group("p1", "p2", "p3", "p4") if p), None)
        if percent and parse_number(percent) == 0:
            continue  # "0%" is no discount (often a digit the OCR lost)
        extra: dict[str, Any] = (
            {"percent": parse_number(percent)} if percent else _money(match.group("money")) or {}
        )
        value = f"{extra['percent']:g}%" if percent else f"{extra['amount']:g} {extra['currency']}"
        taken.append(match.span())
        yield _Hit("discount", "offers", value, match.group(0).strip(), extra)
    for match in _PRICE.finditer(text):
        if any(a <= match.start() < b for a, b in taken):
            continue
        money = _money(match.group(0)) or {}
        yield _Hit(
            "price", "offers", f"{money['amount']:g} {money['currency']}", match.group(0), money
        )
    free_taken: list[tuple[int, int]] = []
    for kind, pattern in (("free_shipping", _FREE_SHIPPING), ("free_trial", _FREE_TRIAL)):
        for match in pattern.finditer(text):
            free_taken.append(match.span())
            yield _Hit(kind, "offers", kind, match.group(0), {})
    for match in _FREE.finditer(text):
        if not any(a <= match.start() < b for a, b in free_taken):
            yield _Hit("free", "offers", "free", match.group(0), {})
    for match in _CODE.finditer(text):
        code = match.group("code")
        # a code is written as one: capitals and/or digits ("SAVE20"), not a common word
        if code.isupper() or any(c.isdigit() for c in code):
            yield _Hit("promo_code", "offers", code.upper(), match.group(0), {"code": code})


def _proof(text: str) -> Iterator[_Hit]:
    for match in _RATING.finditer(text):
        stars = match.group("stars")
        number = next(n for n in match.group("r1", "r2", "r3", "r4", "r5", "stars") if n)
        rating = float(len(stars)) if stars else parse_number(number)
        yield _Hit("rating", "proof", f"{rating:g}/5", match.group(0).strip(), {"rating": rating})
    for match in _COUNT.finditer(text):
        number = match.group("n")
        base = parse_number(number) if number else _NUMBER_WORDS[match.group("w").lower()]
        count = base * _MULTIPLIERS.get(
            (match.group("mult") or match.group("wmult") or "").lower().rstrip("."), 1
        )
        kind = _COUNT_NOUNS[match.group("noun").lower()]
        yield _Hit(kind, "proof", int(count), match.group(0), {"count": int(count)})
    for match in _QUOTED.finditer(text):
        if len(match.group("q").split()) >= 3:
            yield _Hit("testimonial", "proof", fold(match.group("q")), match.group("q"), {})


def _links(text: str, spoken: bool) -> Iterator[_Hit]:
    for url in urls_in(text):
        domain = re.sub(r"^(?:https?://)?(?:www\.)?", "", url.lower()).split("/")[0]
        yield _Hit("url", "links", domain, url, {"domain": domain})
    for match in HANDLE.finditer(text):
        yield _Hit("handle", "links", match.group(0).lower(), match.group(0), {})
    if spoken:
        for match in _SPOKEN_URL.finditer(text):
            name = re.sub(r"^www\s+\w+\s+", "", match.group(1).lower())
            domain = ".".join(p.lower() for p in (name, *match.group(2, 3)) if p)
            yield _Hit("url", "links", domain, match.group(0), {"domain": domain})


def urls_in(text: str) -> list[str]:
    """Web addresses written in ``text``. A "domain" whose ending is a capitalised word ("Sign
    up.It's free", two sentences run together) is not one, unless it starts with www or http."""
    urls = []
    for match in URL.finditer(text):
        url = match.group(0).rstrip(".")
        tld = re.sub(r"^https?://", "", url, flags=re.IGNORECASE).split("/")[0].rsplit(".", 1)[-1]
        prefixed = re.match(r"(?:https?://|www\.)", url, re.IGNORECASE)
        if tld[:1].isupper() and tld[1:].islower() and not prefixed:
            continue
        urls.append(url)
    return urls


def _categories(text: str) -> Iterator[_Hit]:
    for match in re.finditer(r"[^\W\d_]+", text):
        if match.group(0).lower() in CATEGORY_WORDS:
            yield _Hit("category", "sold", fold(match.group(0)), match.group(0), {})


def _names(text: str) -> Iterator[str]:
    """Capitalised words that may be names: CamelCase anywhere, Title-case inside a sentence or
    opening one before a product word, and not a common word or a product category (German
    capitalises every noun)."""
    for match in _NAME.finditer(text):
        word = match.group(0)
        before = text[: match.start()].rstrip()
        opens = not before or before[-1] in '.!?¡¿:"“«'
        camel = any(c.isupper() for c in word[1:])
        common = fold(word) in _NOT_NAMES or fold(word) in _CATEGORIES_FOLDED
        if common or word.isupper():
            continue
        if opens and not camel:
            # a sentence opener is a name only when it names a product: "Brightbrew cold brew"
            sentence = re.split(r"[.!?:;]", text[match.end() :])[0]
            after = [fold(w.strip(",")) for w in sentence.split()[:3]]
            if not any(w in _CATEGORIES_FOLDED for w in after):
                continue
        yield word


# --- assembly ------------------------------------------------------------------------------


def _time_of(line: Line, match_text: str) -> float | None:
    """When the matched words are said (their first word's start) or the span starts."""
    # compared by their first run of letters or digits: speech recognition splits "20 %" or
    # "$ 19" into two words, and the match "20%" must still find the "20"
    first = re.search(r"\w+", fold(match_text))
    if line.word_times and first:
        for word, start in line.word_times:
            said = re.search(r"\w+", fold(word))
            if said and said.group(0).startswith(first.group(0)):
                return round(start, 3)
    return None if line.time_s is None else round(line.time_s, 3)


def _fact(hit: _Hit, line: Line) -> dict[str, Any]:
    time_s = _time_of(line, hit.text)
    return {
        "type": hit.kind,
        "value": hit.value,
        **hit.extra,
        "text": hit.text,
        "quote": line.text,
        "times_s": [] if time_s is None else [time_s],
        "sources": {line.source},
        "occurrences": [
            {"text": hit.text, "quote": line.text, "time_s": time_s, "source": line.source}
        ],
    }


def _merge(facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One fact per (type, value): times, sources and occurrences pooled, the first quote kept."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for fact in facts:
        key = (fact["type"], str(fact["value"]))
        if key in merged:
            kept = merged[key]
            kept["times_s"] = sorted(set(kept["times_s"]) | set(fact["times_s"]))
            kept["sources"] |= fact["sources"]
            kept["occurrences"] += [o for o in fact["occurrences"] if o not in kept["occurrences"]]
        else:
            merged[key] = {
                **fact,
                "times_s": list(fact["times_s"]),
                "occurrences": list(fact["occurrences"]),
            }
    out = []
    for fact in merged.values():
        sources = fact.pop("sources")
        fact["source"] = "both" if len(sources) > 1 else next(iter(sources))
        out.append(fact)
    out.sort(key=lambda f: f["times_s"][0] if f["times_s"] else float("inf"))
    return out


def _run_of(key: str, text: str) -> list[str]:
    """Runs of one to three words in ``text`` that spell ``key`` when joined ("bright brew")."""
    words = text.split()
    runs = []
    for i in range(len(words)):
        for n in (1, 2, 3):
            run = words[i : i + n]
            if len(run) == n and re.sub(r"[^a-z0-9]", "", fold("".join(run))) == key:
                runs.append(" ".join(w.strip(".,!?:;\"'") for w in run))
    return runs


#: what a domain or handle adds to a brand's name ("heatmugshop.com", "@heatmug_official")
_DOMAIN_SUFFIXES = (
    "app",
    "shop",
    "store",
    "official",
    "hq",
    "online",
    "de",
    "es",
    "fr",
    "br",
    "pt",
)


def _brand(lines: list[Line], links: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The brand: a name written or said that the web address or handle also carries, else a name
    repeated (twice or more, or on screen and in speech), else the address's name."""
    domains = [
        re.sub(r"[^a-z0-9]", "", str(f["value"]).split(".")[0].lstrip("@"))
        for f in links
        if f["type"] in ("url", "handle")
    ]
    found: list[tuple[str, Line]] = [(name, line) for line in lines for name in _names(line.text)]
    by_key: dict[str, list[tuple[str, Line]]] = {}
    for name, line in found:
        by_key.setdefault(re.sub(r"[^a-z0-9]", "", fold(name)), []).append((name, line))
    for key, hits in by_key.items():
        # the same name written apart where it was not found: ASR hears "Brightbrew" as
        # "bright brew", and lower case
        seen = {id(line) for _, line in hits}
        hits += [
            (said, line)
            for line in lines
            if id(line) not in seen
            for said in _run_of(key, line.text)
        ]
    chosen: list[tuple[str, Line]] = []
    for key, hits in by_key.items():
        if key and any(d in {key, *(key + suffix for suffix in _DOMAIN_SUFFIXES)} for d in domains):
            chosen = hits
            break
    if not chosen:
        repeated = [
            hits
            for hits in by_key.values()
            if len(hits) >= 2 or len({line.source for _, line in hits}) > 1
        ]
        if repeated:
            chosen = max(repeated, key=len)
    if not chosen and domains and links:
        # only the address names it: the domain's name, quoted from the address
        link = links[0]
        return {
            "type": "brand",
            "value": domains[0],
            "text": link["text"],
            "quote": link["quote"],
            "times_s": link["times_s"],
            "source": link["source"],
            "occurrences": link["occurrences"],
        }
    if not chosen:
        return None
    facts = _merge(
        [_fact(_Hit("brand", "brand", chosen[0][0], name, {}), line) for name, line in chosen]
    )
    return facts[0]


def _product(brand: dict[str, Any] | None, lines: list[Line]) -> dict[str, Any] | None:
    """The product as named: the brand followed by category words ("HeatMug smart mug"), or the
    brand with a name after it ("Acme Glow"); the brand however it was spelt ("bright brew")."""
    if brand is None:
        return None
    spellings = {str(brand["value"])} | {str(o["text"]) for o in brand.get("occurrences", [])}
    names = "|".join(re.escape(s) for s in sorted(spellings, key=len, reverse=True))
    pattern = re.compile(rf"\b(?:{names})((?:\s+[^\W\d_]+){{1,3}})", re.IGNORECASE)
    facts = []
    for line in lines:
        for match in pattern.finditer(line.text):
            rest = match.group(1).split()
            # keep words up to and including the last category word, or one more capitalised name
            keep = 0
            for i, word in enumerate(rest, 1):
                if fold(word.strip(".,!?")) in _CATEGORIES_FOLDED:
                    keep = i
            if not keep and rest[0][:1].isupper() and fold(rest[0]) not in _NOT_NAMES:
                keep = 1
            if keep:
                kept = [w.strip(".,!?") for w in rest[:keep]]
                text = line.text[match.start() : match.start(1)] + " " + " ".join(kept)
                value = " ".join([fold(str(brand["value"])), *map(fold, kept)])
                facts.append(_fact(_Hit("product", "product", value, text, {}), line))
    merged = _merge(facts)
    return max(merged, key=lambda f: len(f["times_s"])) if merged else None


def offer_facts(transcript: Transcript, on_screen_text: list[dict[str, Any]]) -> dict[str, Any]:
    """``{brand, product, sold, offers, proof, links}``: brand and product are one fact or None,
    the others lists of facts, each ``{type, value, text, quote, times_s, source, …}``."""
    lines = lines_from(transcript, on_screen_text)
    groups: dict[str, list[dict[str, Any]]] = {"sold": [], "offers": [], "proof": [], "links": []}
    for line in lines:
        spoken = line.source == "spoken"
        for hit in (
            *_offers(line.text),
            *_proof(line.text),
            *_links(line.text, spoken),
            *_categories(line.text),
        ):
            groups[hit.group].append(_fact(hit, line))
    merged = {group: _merge(facts) for group, facts in groups.items()}
    brand = _brand(lines, merged["links"])
    product = _product(brand, lines)
    # what is sold: the category words naming the product first, then the most repeated
    named = set(fold(str(product["text"])).split()) if product else set()
    for fact in merged["sold"]:
        fact["in_product"] = fact["value"] in named
    merged["sold"].sort(key=lambda f: (not f["in_product"], -len(f["occurrences"])))
    return {"brand": brand, "product": product, **merged}


def offer_in(text: str) -> list[str]:
    """The offer words in one piece of text (discounts, prices, free shipping or trial, codes)."""
    return [hit.text for hit in _offers(text) if hit.kind != "free"]
