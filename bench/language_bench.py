"""On-screen language detection on short ad text: the detector we ship, and the one we compared.

Each candidate runs in its own process (so its memory is its own) over the same phrases: our
English test ads' on-screen texts and short ad phrases in Spanish, Portuguese, French and German
("Compra ahora 20% de descuento", "Livraison gratuite dès 30 €", "Jetzt bestellen", ...), and
text that names no language (brand names, "OK", numbers, addresses, Italian and Polish lines).
Prints, per candidate: right / unknown / wrong on the phrases and on each language's phrases
joined (the way the analysis reads an ad's spans), what the no-language texts got,
the load time, the time per text, and the peak resident memory with its ratio to the analysis
budget (1.5 GB). Asserts nothing.

* ``ours``: ``knightvision.analysis.metrics.language.detect_text_language`` (py3langid 0.4.0 and
  our rules: unknown below the thresholds);
* ``py3langid-5``: py3langid restricted to the five languages, its top answer taken as is;
* ``lingua`` / ``lingua-low``: lingua-language-detector built from the five languages (high and
  low accuracy mode), top answer taken as is; only when lingua is importable (it is not a
  dependency: ``pip install --target DIR lingua-language-detector==2.1.1`` and pass
  ``--lingua-path DIR``).

    python bench/language_bench.py [--lingua-path DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable

BUDGET_MB = 1536
FIVE = ("en", "es", "pt", "fr", "de")
PHRASES = [
    # the English test ads' on-screen text (tests/fixtures/ad_reports.py, tests/analysis/)
    ("en", "Greasy by noon?"),
    ("en", "Handmade oak desks"),
    ("en", "Order yours today"),
    ("en", "Built to last 30 years"),
    ("en", "Tired of cold coffee every single morning at your desk?"),
    ("en", "Hot all day long"),
    ("en", "Coffee that stays hot"),
    ("en", "Free shipping worldwide"),
    ("en", "Start your free trial"),
    ("en", "Get 50% off today"),
    ("en", "Join 1 million users"),
    ("en", "The smart mug for busy mornings"),
    ("en", "Shop now"),
    ("en", "Learn more"),
    ("en", "Download the app"),
    ("es", "Compra ahora 20% de descuento"),
    ("es", "Envío gratis a toda España"),
    ("es", "Pide el tuyo hoy"),
    ("es", "Comprar ya"),
    ("es", "Pide ya"),
    ("es", "Tu café, caliente todo el día"),
    ("es", "Más de 10.000 clientes felices"),
    ("es", "La taza inteligente"),
    ("es", "Más información en la web"),
    ("es", "Prueba gratis 7 días"),
    ("pt", "Compre agora frete grátis"),
    ("pt", "Saiba mais"),
    ("pt", "Frete grátis para todo o Brasil"),
    ("pt", "Teste grátis por 30 dias"),
    ("pt", "A caneca inteligente"),
    ("pt", "Peça já o seu"),
    ("pt", "1 milhão de usuários"),
    ("pt", "Desconto de 20% hoje"),
    ("fr", "Livraison gratuite dès 30 €"),
    ("fr", "Commandez"),
    ("fr", "En savoir plus"),
    ("fr", "Essai gratuit de 14 jours"),
    ("fr", "La tasse intelligente"),
    ("fr", "Achetez maintenant en ligne"),
    ("fr", "Plus de 20 000 avis"),
    ("fr", "25 % de réduction"),
    ("de", "Jetzt bestellen"),
    ("de", "Jetzt kaufen"),
    ("de", "Mehr erfahren"),
    ("de", "Kostenloser Versand"),
    ("de", "Gratisversand"),
    ("de", "15% Rabatt auf alles"),
    ("de", "Der smarte Becher"),
    ("de", "50.000 zufriedene Kunden"),
    ("de", "Die App ist kostenlos"),
]
NO_LANGUAGE = [
    "OK",
    "HeatMug",
    "Brightbrew",
    "HeatMug Brightbrew",
    "Black Friday",
    "iPhone 15 Pro Max",
    "50%",
    "$29.99",
    "heatmug.com",
    "@heatmug_de",
    "Questa tazza mantiene il caffè caldo tutto il giorno",
    "Kup teraz z darmową dostawą",
]


def _ours() -> Callable[[str], str | None]:
    from knightvision.analysis.metrics.engines import language_identifier
    from knightvision.analysis.metrics.language import detect_text_language

    language_identifier()
    return lambda text: detect_text_language(text).language


def _py3langid_five() -> Callable[[str], str | None]:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(FIVE))
    return lambda text: str(identifier.classify(text)[0])


def _lingua(low: bool) -> Callable[[str], str | None]:
    from lingua import Language, LanguageDetectorBuilder

    languages = [
        Language.ENGLISH,
        Language.SPANISH,
        Language.PORTUGUESE,
        Language.FRENCH,
        Language.GERMAN,
    ]
    builder = LanguageDetectorBuilder.from_languages(*languages)
    if low:
        builder = builder.with_low_accuracy_mode()
    detector = builder.with_preloaded_language_models().build()

    def detect(text: str) -> str | None:
        found = detector.detect_language_of(text)
        return None if found is None else str(found.iso_code_639_1.name.lower())

    return detect


CANDIDATES: dict[str, Callable[[], Callable[[str], str | None]]] = {
    "ours": _ours,
    "py3langid-5": _py3langid_five,
    "lingua": lambda: _lingua(False),
    "lingua-low": lambda: _lingua(True),
}


def run_one(name: str) -> dict[str, object]:
    """Measure one candidate in this process."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    detect = CANDIDATES[name]()
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    answers = [detect(text) for _, text in PHRASES]
    per_text_ms = (time.perf_counter() - started) / len(PHRASES) * 1000
    right = sum(a == lang for a, (lang, _) in zip(answers, PHRASES, strict=True))
    unknown = sum(a is None for a in answers)
    # an ad's text as the analysis reads it: its distinct spans joined (here: each language's)
    whole = {lang: detect(". ".join(t for code, t in PHRASES if code == lang)) for lang in FIVE}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "name": name,
        "right": right,
        "unknown": unknown,
        "wrong": len(PHRASES) - right - unknown,
        "wrong_cases": [
            (lang, a, text)
            for a, (lang, text) in zip(answers, PHRASES, strict=True)
            if a is not None and a != lang
        ],
        "whole_ad_right": sum(whole[lang] == lang for lang in FIVE),
        "no_language": {text: detect(text) for text in NO_LANGUAGE},
        "load_s": round(load_s, 3),
        "per_text_ms": round(per_text_ms, 3),
        "peak_mb": round(peak),
        "model_mb": round(peak - before),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lingua-path", help="a folder holding lingua-language-detector")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.lingua_path:
        sys.path.insert(0, args.lingua_path)
    if args.one:
        print(json.dumps(run_one(args.one), ensure_ascii=False))
        return
    names = ["ours", "py3langid-5"]
    try:
        import lingua  # noqa: F401

        names += ["lingua", "lingua-low"]
    except ImportError:
        print("lingua not importable: pass --lingua-path DIR to compare it")
    print(f"{len(PHRASES)} phrases in five languages; {len(NO_LANGUAGE)} texts that name none")
    for name in names:
        command = [sys.executable, __file__, "--one", name]
        if args.lingua_path:
            command += ["--lingua-path", args.lingua_path]
        out = json.loads(subprocess.run(command, capture_output=True, check=True).stdout)
        print(
            f"\n{name}: right {out['right']}/{len(PHRASES)}, unknown {out['unknown']}, "
            f"wrong {out['wrong']}; whole-ad texts right {out['whole_ad_right']}/5; "
            f"load {out['load_s']} s, {out['per_text_ms']} ms per text; "
            f"peak {out['peak_mb']} MB (model {out['model_mb']} MB, "
            f"{out['peak_mb'] / BUDGET_MB:.2f} of the 1.5 GB budget)"
        )
        for case in out["wrong_cases"]:
            print(f"  wrong: {case}")
        guessed = {t: a for t, a in out["no_language"].items() if a is not None}
        print(f"  no-language texts given a language: {len(guessed)}/{len(NO_LANGUAGE)} {guessed}")


if __name__ == "__main__":
    main()
