#!/usr/bin/env bash
# Installs NVIDIA AIPerf (PyPI `aiperf`, pinned) into a virtual environment in the same cache
# as scripts/install-triton.sh, plus a tiny offline tokenizer, so that bench/openai-stream.sh
# can run AIPerf without any network access to Hugging Face.
#
# Usage:   scripts/install-aiperf.sh
# Env:     PERF_ANALYZER_CACHE  cache root (default: ${XDG_CACHE_HOME:-~/.cache}/swift-perf-analyzer)
#          AIPERF_PYTHON        python interpreter for the venv (default: the first of
#                               python3.13, python3.12, python3.11, python3 that is >= 3.11, < 3.14)
# Output:  the last line on stdout is the venv folder, $CACHE/aiperf-VERSION. Inside it:
#          bin/aiperf, and tokenizer/ (pass it as `aiperf profile --tokenizer DIR`, an absolute
#          path; leave HF_HUB_OFFLINE unset: with it, aiperf 0.13.0 looks the name up in the
#          Hugging Face cache only and refuses a local folder).
#
# The tokenizer is a word-level one (tokenizers' WordLevel + whitespace pre-tokenizer) whose
# vocabulary is the words kserve-sim streams (Sources/KServeSim/OpenAI/SimulatedText.swift)
# plus [UNK]: every word of a kserve-sim answer is exactly one token, the same count the server
# reports as completion_tokens. It is for benchmarking against kserve-sim, not real models.
#
# Safe to run repeatedly: a finished install (marker file .complete) is left alone.
# The first run downloads and installs ~1 GB (aiperf pulls in transformers, pandas, plotly, ...)
# and takes several minutes.
set -euo pipefail

AIPERF_VERSION="0.13.0"

CACHE_DIR="${PERF_ANALYZER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/swift-perf-analyzer}"
VENV="$CACHE_DIR/aiperf-$AIPERF_VERSION"
TOKENIZER_DIR="$VENV/tokenizer"

log()  { echo "[install-aiperf] $*" >&2; }
fail() { echo "[install-aiperf] ERROR: $*" >&2; exit 1; }
# shellcheck source-path=SCRIPTDIR source=install-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/install-common.sh"

if [ -f "$VENV/.complete" ] && [ -x "$VENV/bin/aiperf" ] && [ -f "$TOKENIZER_DIR/tokenizer.json" ]; then
    log "already installed: $VENV (aiperf $(cat "$VENV/.complete"))"
    echo "$VENV"
    exit 0
fi

# --- python (aiperf 0.13.0 needs >= 3.11, < 3.14) ------------------------------
python_ok() { "$1" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 14) else 1)' 2>/dev/null; }
PYTHON="${AIPERF_PYTHON:-}"
if [ -z "$PYTHON" ]; then
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null && python_ok "$candidate"; then PYTHON="$candidate"; break; fi
    done
fi
[ -n "$PYTHON" ] || fail "need python 3.11, 3.12 or 3.13 (set AIPERF_PYTHON)"
python_ok "$PYTHON" || fail "$PYTHON is not python 3.11-3.13"
if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
    # Debian's own python splits venv/ensurepip into python3.X-venv.
    apt_install "python$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-venv"
fi
# find_pip is only a check here that pip works at all on this machine; the venv has its own.
find_pip

# --- venv + aiperf ---------------------------------------------------------------
# A venv records its own path in its scripts, so it is built in place. .complete (written
# last) marks a finished install; a venv that already has the pinned aiperf (an earlier run
# stopped after pip) is kept, anything else is rebuilt from scratch.
installed_version() { "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("aiperf"))' 2>/dev/null || true; }
if [ -x "$VENV/bin/python" ] && [ "$(installed_version)" = "$AIPERF_VERSION" ]; then
    log "aiperf $AIPERF_VERSION already in $VENV"
else
    rm -rf "$VENV"
    log "creating venv $VENV with $PYTHON ($("$PYTHON" --version 2>&1))"
    "$PYTHON" -m venv "$VENV" || fail "python -m venv $VENV failed"
    log "installing aiperf==$AIPERF_VERSION (several minutes, ~1 GB)"
    "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet "aiperf==$AIPERF_VERSION" >&2 \
        || fail "pip install aiperf==$AIPERF_VERSION failed (delete $VENV and rerun)"
    [ "$(installed_version)" = "$AIPERF_VERSION" ] || fail "installed aiperf $(installed_version), expected $AIPERF_VERSION"
fi

# --- offline tokenizer -------------------------------------------------------------
log "writing the word-level tokenizer to $TOKENIZER_DIR"
staging="$VENV/tokenizer.partial.$$"
rm -rf "$staging"
trap 'rm -rf "$staging"' EXIT
mkdir -p "$staging"
"$VENV/bin/python" - "$staging/tokenizer" <<'EOF' || fail "could not build the tokenizer"
import sys
from tokenizers import Tokenizer, models, pre_tokenizers, decoders
from transformers import PreTrainedTokenizerFast

# kserve-sim's SimulatedText.words (each streamed with a trailing space).
words = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while",
         "simulated", "tokens", "stream", "out", "one", "by"]
vocab = {"[UNK]": 0, "<s>": 1, "</s>": 2}
for word in words:
    vocab.setdefault(word, len(vocab))
core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
core.decoder = decoders.WordPiece(prefix="##")  # joins tokens with spaces
fast = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]", bos_token="<s>", eos_token="</s>")
fast.save_pretrained(sys.argv[1])
check = fast.encode("the quick brown fox jumps over a lazy dog ", add_special_tokens=False)
assert len(check) == 9, check
EOF
rm -rf "$TOKENIZER_DIR"
mv "$staging/tokenizer" "$TOKENIZER_DIR"
rm -rf "$staging"
trap - EXIT

# --- sanity check: aiperf loads it (a local folder: no network) ---------------------
"$VENV/bin/python" - "$TOKENIZER_DIR" <<'EOF' || fail "aiperf cannot load $TOKENIZER_DIR"
import sys
from aiperf.common.tokenizer import Tokenizer
tok = Tokenizer.from_pretrained(sys.argv[1], resolve_alias=False)
assert len(tok.encode("simulated tokens stream out one by one ")) == 7
EOF
echo "$AIPERF_VERSION" > "$VENV/.complete"
log "AIPerf ready: $VENV/bin/aiperf, tokenizer $TOKENIZER_DIR"
echo "$VENV"
