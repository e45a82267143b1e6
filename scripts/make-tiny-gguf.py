#!/usr/bin/env python3
"""Writes a tiny llama-architecture GGUF model with seeded random weights.

Usage: make-tiny-gguf.py OUTPUT.gguf      (needs PyPI's gguf and numpy)

It is a test fixture for an OpenAI-compatible server (llama.cpp through
llama-cpp-python, see scripts/install-llama-server.sh), not a language model:
2 layers, embedding 64, 4 heads, feed-forward 128, 4096 tokens of context, and
a llama (SentencePiece-style) vocabulary of <unk> <s> </s>, the 256 byte tokens
<0x00>..<0xFF> and a few hundred ASCII word pieces. `tokenizer.chat_template`
holds a small Jinja template ("role: content" lines, then "assistant:"), so
/v1/chat/completions works.

Every generated token is an ASCII word piece, never EOS: the weights are built
so that the residual stream's dimension 0 is a positive constant in every
position (token embeddings put 8 there; the attention and feed-forward output
projections leave it alone), and the output rows of the control tokens
(<unk> <s> </s>) and of the byte tokens are -50 in that column and 0 elsewhere,
so their logits are about -280 whatever the context while the word pieces'
logits are O(1). Hence a request with max_tokens N always gets exactly N tokens
(finish_reason "length"), each of which decodes to a non-empty ASCII string
(no partial UTF-8 sequences, no stop string "</s>": no piece contains '<').
"""
import sys

import numpy as np
import gguf

SEED = 20240601
N_LAYER = 2
N_EMBD = 64
N_HEAD = 4
N_HEAD_KV = 4
N_FF = 128
N_CTX = 4096
CONSTANT_DIM_VALUE = 8.0      # residual dimension 0, the same in every position
SUPPRESSED_LOGIT_WEIGHT = -50.0

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ message['role'] }}: {{ message['content'] }}\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)

WORDS = """the of and to in is was for on that with as by at from it be this are
or an have not but which one all were they their has been more when there can
who will would so if what about out up into some time them these other than then
two its only new may first any like over also after back most how well very just
model token stream server request answer test random tiny fast slow data value
hello world swift perf analyzer latency through put chat text word line""".split()
SUFFIXES = ["s", "ed", "ing", "er", "ly", "tion", "al", "es", "en", "est"]


def vocabulary():
    """(tokens, scores, types, suppressed): suppressed marks what is never sampled."""
    tokens, scores, types, suppressed = [], [], [], []

    def add(text, score, token_type, never_sampled):
        tokens.append(text)
        scores.append(score)
        types.append(token_type)
        suppressed.append(never_sampled)

    add("<unk>", 0.0, gguf.TokenType.UNKNOWN, True)
    add("<s>", 0.0, gguf.TokenType.CONTROL, True)
    add("</s>", 0.0, gguf.TokenType.CONTROL, True)
    for byte in range(256):
        add(f"<0x{byte:02X}>", 0.0, gguf.TokenType.BYTE, True)
    # Word pieces: "▁" marks a leading space (SentencePiece). Single characters get the
    # lowest scores so the tokenizer merges them into the longer pieces first.
    pieces = ["\u2581"] + list("abcdefghijklmnopqrstuvwxyz0123456789.,!?:;'-")
    pieces += ["\u2581" + c for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    pieces += SUFFIXES
    pieces += ["\u2581" + w for w in WORDS]
    seen = set()
    for piece in pieces:
        if piece in seen:
            continue
        seen.add(piece)
        add(piece, -1000.0 + 10.0 * len(piece), gguf.TokenType.NORMAL, False)
    return tokens, scores, types, np.array(suppressed)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make-tiny-gguf.py OUTPUT.gguf")
    path = sys.argv[1]
    rng = np.random.default_rng(SEED)
    tokens, scores, types, suppressed = vocabulary()
    n_vocab = len(tokens)
    head_dim = N_EMBD // N_HEAD

    def normal(shape, std):
        return (rng.standard_normal(shape) * std).astype(np.float32)

    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("tiny-llama-random")
    writer.add_description("random weights, test fixture for swift-perf-analyzer")
    writer.add_context_length(N_CTX)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD_KV)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)

    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_chat_template(CHAT_TEMPLATE)

    # numpy shape (rows, cols) = ggml (ne1, ne0): a matrix mapping n_in -> n_out is (n_out, n_in).
    token_embd = normal((n_vocab, N_EMBD), 1.0)
    token_embd[:, 0] = CONSTANT_DIM_VALUE
    writer.add_tensor("token_embd.weight", token_embd)
    for layer in range(N_LAYER):
        prefix = f"blk.{layer}."
        writer.add_tensor(prefix + "attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        writer.add_tensor(prefix + "attn_q.weight", normal((N_EMBD, N_EMBD), 0.3))
        writer.add_tensor(prefix + "attn_k.weight", normal((N_HEAD_KV * head_dim, N_EMBD), 0.3))
        writer.add_tensor(prefix + "attn_v.weight", normal((N_HEAD_KV * head_dim, N_EMBD), 0.3))
        attn_output = normal((N_EMBD, N_EMBD), 0.1)
        attn_output[0, :] = 0.0       # keeps residual dimension 0 constant
        writer.add_tensor(prefix + "attn_output.weight", attn_output)
        writer.add_tensor(prefix + "ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        writer.add_tensor(prefix + "ffn_gate.weight", normal((N_FF, N_EMBD), 0.3))
        writer.add_tensor(prefix + "ffn_up.weight", normal((N_FF, N_EMBD), 0.3))
        ffn_down = normal((N_EMBD, N_FF), 0.1)
        ffn_down[0, :] = 0.0          # keeps residual dimension 0 constant
        writer.add_tensor(prefix + "ffn_down.weight", ffn_down)
    writer.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    output = normal((n_vocab, N_EMBD), 0.3)
    output[:, 0] = 0.0
    output[suppressed, :] = 0.0
    output[suppressed, 0] = SUPPRESSED_LOGIT_WEIGHT
    writer.add_tensor("output.weight", output)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print(f"wrote {path}: llama, {N_LAYER} layers, embedding {N_EMBD}, {N_HEAD} heads, "
          f"context {N_CTX}, vocabulary {n_vocab} ({int((~suppressed).sum())} sampleable pieces)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
