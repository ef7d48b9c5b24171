// gemma-embedding2 (EmbeddingGemma 2, text tower) as a llama.cpp model graph — ggufembed's own.
//
// Written by the ggufembed project for measurement only: it lets a native llama.cpp (the tree
// bundled with node-llama-cpp, which predates this architecture) run gemma-embedding2 GGUF files,
// as a second llama.cpp build next to wllama for conformance floors. It is a port of ggufembed's
// src/models/gemma_embedding2/forward.cc to llama.cpp's graph API (the API as the bundled
// gemma-embedding / gemma4 model files use it); it is not upstream's file and not a supported
// llama.cpp model. scripts/llama-eg2/build.sh drops it into the cloned tree as
// src/models/gemma-embedding2.cpp next to registration.patch.
//
// The pass, per token:
//   x  = token_embd[id] · sqrt(n_embd)
//   P  = rms(per_layer_model_proj · x / sqrt(n_embd), per_layer_proj_norm), one n_embd_per_layer
//        slice per layer
//   per layer (sliding layers: |Δpos| ≤ n_swa/2, their own head size, KV heads, RoPE dims/base):
//     attention: rms-norm, Q/K/V, Q and K rms-normed with weights and V without, NEOX RoPE,
//                softmax attention with scale 1 (bidirectional), output projection, post-norm,
//                residual
//     feed-forward: rms-norm, down · (gelu(gate·h) ⊙ up·h), post-norm, residual
//     per-layer input: proj · (gelu(inp_gate · x) ⊙ P_il), post-norm, residual; then
//                x · layer_output_scale
//   out = output · rms(x, output_norm)    (n_embd_out per token; llama.cpp pools it)
#include "models.h"

void llama_model_gemma_embedding2::load_arch_hparams(llama_model_loader & ml) {
    // Which layers slide: the file's bool array, or a period (default 6: every sixth is global).
    load_swa_pattern(ml, 6);
    hparams.swa_type    = LLAMA_SWA_TYPE_SYMMETRIC;  // a token sees |Δpos| <= n_swa/2 both ways
    hparams.causal_attn = false;                     // an encoder: bidirectional attention
    hparams.f_attention_scale = 1.0f;                // Q and K are rms-normed; no 1/sqrt(hd)

    ml.get_key(LLM_KV_ATTENTION_SLIDING_WINDOW,    hparams.n_swa);
    ml.get_key(LLM_KV_ATTENTION_LAYERNORM_RMS_EPS, hparams.f_norm_rms_eps);
    ml.get_key(LLM_KV_EMBEDDING_LENGTH_PER_LAYER,  hparams.n_embd_per_layer);
    ml.get_key(LLM_KV_ROPE_FREQ_BASE_SWA,          hparams.rope_freq_base_train_swa, false);
    // Per-layer head sizes / rotated dims (key_length[_swa], rope.dimension_count[_swa]) and the
    // per-layer KV head counts are read by the generic loader.

    type = hparams.n_layer() == 24 ? LLM_TYPE_0_3B : LLM_TYPE_UNKNOWN;
}

void llama_model_gemma_embedding2::load_arch_tensors(llama_model_loader &) {
    LLAMA_LOAD_LOCALS;
    const int64_t n_pl  = hparams.n_embd_per_layer;
    const int64_t n_out = hparams.n_embd_out();

    tok_embd    = create_tensor(tn(LLM_TENSOR_TOKEN_EMBD,  "weight"), {n_embd, n_vocab}, 0);
    output_norm = create_tensor(tn(LLM_TENSOR_OUTPUT_NORM, "weight"), {n_embd}, 0);
    output      = create_tensor(tn(LLM_TENSOR_OUTPUT,      "weight"), {n_embd, n_out}, 0);

    // per-layer inputs: one projection for all layers (rows il*n_pl ... for layer il), one norm
    per_layer_model_proj = create_tensor(tn(LLM_TENSOR_PER_LAYER_MODEL_PROJ, "weight", 0), {n_embd, n_pl * n_layer}, 0);
    per_layer_proj_norm  = create_tensor(tn(LLM_TENSOR_PER_LAYER_PROJ_NORM,  "weight", 0), {n_pl}, 0);

    for (int il = 0; il < n_layer; ++il) {
        llama_layer & l = layers[il];
        const int64_t hd   = hparams.n_embd_head_k(il);
        const int64_t hd_v = hparams.n_embd_head_v(il);
        const int64_t nh   = hparams.n_head(il);
        const int64_t nkv  = hparams.n_head_kv(il);

        l.attn_norm      = create_tensor(tn(LLM_TENSOR_ATTN_NORM,      "weight", il), {n_embd}, 0);
        l.wq             = create_tensor(tn(LLM_TENSOR_ATTN_Q,         "weight", il), {n_embd, hd * nh}, 0);
        l.wk             = create_tensor(tn(LLM_TENSOR_ATTN_K,         "weight", il), {n_embd, hd * nkv}, 0);
        l.wv             = create_tensor(tn(LLM_TENSOR_ATTN_V,         "weight", il), {n_embd, hd_v * nkv}, 0);
        l.attn_q_norm    = create_tensor(tn(LLM_TENSOR_ATTN_Q_NORM,    "weight", il), {hd}, 0);
        l.attn_k_norm    = create_tensor(tn(LLM_TENSOR_ATTN_K_NORM,    "weight", il), {hd}, 0);
        l.wo             = create_tensor(tn(LLM_TENSOR_ATTN_OUT,       "weight", il), {hd_v * nh, n_embd}, 0);
        l.attn_post_norm = create_tensor(tn(LLM_TENSOR_ATTN_POST_NORM, "weight", il), {n_embd}, 0);

        l.ffn_norm      = create_tensor(tn(LLM_TENSOR_FFN_NORM,      "weight", il), {n_embd}, 0);
        l.ffn_gate      = create_tensor(tn(LLM_TENSOR_FFN_GATE,      "weight", il), {n_embd, hparams.n_ff(il)}, 0);
        l.ffn_up        = create_tensor(tn(LLM_TENSOR_FFN_UP,        "weight", il), {n_embd, hparams.n_ff(il)}, 0);
        l.ffn_down      = create_tensor(tn(LLM_TENSOR_FFN_DOWN,      "weight", il), {hparams.n_ff(il), n_embd}, 0);
        l.ffn_post_norm = create_tensor(tn(LLM_TENSOR_FFN_POST_NORM, "weight", il), {n_embd}, 0);

        l.per_layer_inp_gate  = create_tensor(tn(LLM_TENSOR_PER_LAYER_INP_GATE,  "weight", il), {n_embd, n_pl}, 0);
        l.per_layer_proj      = create_tensor(tn(LLM_TENSOR_PER_LAYER_PROJ,      "weight", il), {n_pl, n_embd}, 0);
        l.per_layer_post_norm = create_tensor(tn(LLM_TENSOR_PER_LAYER_POST_NORM, "weight", il), {n_embd}, 0);
        l.out_scale           = create_tensor(tn(LLM_TENSOR_LAYER_OUT_SCALE,     "weight", il), {1}, 0);
    }
}

std::unique_ptr<llm_graph_context> llama_model_gemma_embedding2::build_arch_graph(const llm_graph_params & params) const {
    return std::make_unique<graph>(*this, params);
}

llama_model_gemma_embedding2::graph::graph(const llama_model & model, const llm_graph_params & params) :
        llm_graph_context(params) {
    const int64_t n_pl = hparams.n_embd_per_layer;
    const float   eps  = hparams.f_norm_rms_eps;

    // rms(v) · w over each ne0-row (w may be null: the norm alone)
    auto rms = [&](ggml_tensor * v, ggml_tensor * w, int il) {
        return build_norm(v, w, nullptr, LLM_NORM_RMS, il);
    };

    ggml_tensor * inp_pos  = build_inp_pos();
    auto        * inp_attn = build_attn_inp_no_cache();  // no KV cache; full + sliding masks

    // token embeddings, scaled by sqrt(n_embd) (raw embedding input is used as given)
    ggml_tensor * x = build_inp_embd(model.tok_embd);
    x = ggml_scale(ctx0, x, ubatch.token ? sqrtf((float) n_embd) : 1.0f);
    cb(x, "inp_scaled", -1);

    // per-layer inputs P: [n_pl, n_layer, n_tokens]; layer il's slice is the strided view
    // P[:, il, :] (rows n_layer·n_pl floats apart), used in place without a copy
    ggml_tensor * P = build_lora_mm(model.per_layer_model_proj, x);
    P = ggml_scale(ctx0, P, 1.0f / sqrtf((float) n_embd));
    P = ggml_reshape_3d(ctx0, P, n_pl, n_layer, n_tokens);
    P = rms(P, model.per_layer_proj_norm, -1);
    cb(P, "per_layer_inputs", -1);
    auto per_layer_input = [&](int il) {
        return ggml_view_2d(ctx0, P, n_pl, n_tokens, P->nb[2], il * P->nb[1]);
    };

    for (int il = 0; il < n_layer; ++il) {
        const llama_layer & l = model.layers[il];
        const int64_t hd    = hparams.n_embd_head_k(il);
        const int64_t hd_v  = hparams.n_embd_head_v(il);
        const int64_t nh    = hparams.n_head(il);
        const int64_t nkv   = hparams.n_head_kv(il);
        const int     n_rot = hparams.n_rot(il);
        const float   base  = model.get_rope_freq_base(cparams, il);   // swa: rope.freq_base_swa
        const float   scale = model.get_rope_freq_scale(cparams, il);

        // attention block
        {
            ggml_tensor * h = rms(x, l.attn_norm, il);
            cb(h, "attn_norm", il);
            ggml_tensor * q = ggml_reshape_3d(ctx0, build_lora_mm(l.wq, h, l.wq_s), hd,   nh,  n_tokens);
            ggml_tensor * k = ggml_reshape_3d(ctx0, build_lora_mm(l.wk, h, l.wk_s), hd,   nkv, n_tokens);
            ggml_tensor * v = ggml_reshape_3d(ctx0, build_lora_mm(l.wv, h, l.wv_s), hd_v, nkv, n_tokens);
            q = rms(q, l.attn_q_norm, il);
            k = rms(k, l.attn_k_norm, il);
            v = ggml_rms_norm(ctx0, v, eps);
            q = ggml_rope_ext(ctx0, q, inp_pos, nullptr, n_rot, rope_type, n_ctx_orig, base, scale,
                              ext_factor, attn_factor, beta_fast, beta_slow);
            k = ggml_rope_ext(ctx0, k, inp_pos, nullptr, n_rot, rope_type, n_ctx_orig, base, scale,
                              ext_factor, attn_factor, beta_fast, beta_slow);
            cb(q, "Qcur", il);
            cb(k, "Kcur", il);
            cb(v, "Vcur", il);
            ggml_tensor * a = build_attn(inp_attn, l.wo, nullptr, l.wo_s, q, k, v, nullptr, nullptr, nullptr,
                                         hparams.f_attention_scale, il);
            a = rms(a, l.attn_post_norm, il);
            x = ggml_add(ctx0, a, x);
            cb(x, "attn_out", il);
        }

        // feed-forward block
        {
            ggml_tensor * f = rms(x, l.ffn_norm, il);
            f = build_ffn(f, l.ffn_up, nullptr, l.ffn_up_s, l.ffn_gate, nullptr, l.ffn_gate_s,
                          l.ffn_down, nullptr, l.ffn_down_s, nullptr, LLM_FFN_GELU, LLM_FFN_PAR, il);
            f = rms(f, l.ffn_post_norm, il);
            x = ggml_add(ctx0, f, x);
            cb(x, "ffn_out", il);
        }

        // per-layer input block, then the layer's output scale
        {
            ggml_tensor * g = ggml_gelu(ctx0, build_lora_mm(l.per_layer_inp_gate, x));
            g = ggml_mul(ctx0, g, per_layer_input(il));
            ggml_tensor * p = rms(build_lora_mm(l.per_layer_proj, g), l.per_layer_post_norm, il);
            x = ggml_add(ctx0, x, p);
            x = ggml_mul(ctx0, x, l.out_scale);
        }

        x = build_cvec(x, il);
        cb(x, "l_out", il);
    }

    // only the rows asked for (every row when pooling); the rest is per token
    if (n_outputs < n_tokens) {
        x = ggml_get_rows(ctx0, x, build_inp_out_ids());
    }

    x = rms(x, model.output_norm, -1);
    cb(x, "result_norm", -1);

    ggml_tensor * e = build_lora_mm(model.output, x, model.output_s);  // [n_embd_out, n_outputs]
    cb(e, "result_embd", -1);
    res->t_embd = e;

    ggml_build_forward_expand(gf, e);
}
