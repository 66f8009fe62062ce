/* SPDX-License-Identifier: MIT */
/* Part of rope.h (cos/sin caches from a model's RoPE configuration):
 * include <rope.h>, not this file. The parts are rope.h split by subject;
 * rope.h includes each once, in the order of its table of contents. */
#ifndef ROPE_PART_CACHE_H
#define ROPE_PART_CACHE_H

#ifndef ROPE_H
#error "include <rope.h>, not its parts"
#endif

/* ---------------------------------------------------------------------------------------------- */
/* Cos/sin caches                                                                                  */
/* ---------------------------------------------------------------------------------------------- */

/*
 * The cos/sin tables the operators above take, computed from a model's RoPE configuration as Hugging
 * Face transformers' rope initialisation functions define it (modeling_rope_utils.py: the default,
 * linear, dynamic, yarn, llama3, longrope and proportional rope types), including context-extension
 * scalings.
 *
 * Unlike the operators, these functions compute in float64: the inverse frequencies with libm pow and
 * log (Hugging Face evaluates them in float32), and each angle pos * inv_freq[i] as the exact product
 * of the position and the float64 inverse frequency, reduced modulo pi/2 in double-double. A cos/sin
 * value is therefore rounded once, from an accurate float64 value, to the output dtype: float32
 * results are within 2 units in the last place of the exact attention * cos(pos * inv_freq[i]) for
 * every position up to 2^24 and beyond, as long as the angle stays below 2^46 rad (measured: under
 * 0.5 ulp, i.e. correctly rounded, on 370,000 test angles at positions up to 2^31). A float32 angle
 * pos * inv_freq, as most frameworks compute it, is off by about 0.06 rad at position 10^6.
 *
 * The scaling methods. Notation: d = rotary_dim, i = 0 .. d/2-1 the pair index, e_i = 2i/d,
 * ln the natural logarithm, orig = original_max_position_embeddings, pi = 3.14159...
 *
 *   DEFAULT   inv[i] = 1 / base^e_i.                                          attention 1.
 *   LINEAR    inv[i] = (1 / base^e_i) / factor: positions are divided by factor (position
 *             interpolation).                                                  attention 1.
 *   DYNAMIC   dynamic NTK: with L = seq_len when seq_len > orig, else orig,
 *               base' = base * (factor * L / orig - (factor - 1))^(d / (d - 2)),
 *               inv[i] = 1 / base'^e_i,
 *             so the frequencies only change once seq_len exceeds orig.        attention 1.
 *   YARN      extrap[i] = 1 / base^e_i, interp[i] = 1 / (factor * base^e_i);
 *             corr(n) = d * ln(orig / (n * 2 * pi)) / (2 * ln(base)), the pair index whose wavelength
 *             fits n times into orig positions;
 *             low = max(floor(corr(beta_fast)), 0), high = min(ceil(corr(beta_slow)), d - 1)
 *             (without floor and ceil when no_truncate is set); high += 0.001 when low == high;
 *             ramp[i] = clamp((i - low) / (high - low), 0, 1), w = 1 - ramp[i];
 *             inv[i] = interp[i] * (1 - w) + extrap[i] * w
 *             (fast-turning pairs below low keep extrap, slow ones above high get interp).
 *             attention = attention_factor when set; else, when mscale and mscale_all_dim are both
 *             set, m(factor, mscale) / m(factor, mscale_all_dim); else m(factor, 1), where
 *             m(s, k) = 1 for s <= 1 and 0.1 * k * ln(s) + 1 otherwise (YaRN's get_mscale).
 *   LLAMA3    inv0 = 1 / base^e_i, wavelen = 2 * pi / inv0;
 *             wavelen < orig / high_freq_factor:   inv[i] = inv0            (high frequencies kept)
 *             wavelen > orig / low_freq_factor:    inv[i] = inv0 / factor   (low ones interpolated)
 *             otherwise, with s = (orig / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor):
 *                                                  inv[i] = (1 - s) * inv0 / factor + s * inv0.
 *                                                                              attention 1.
 *   LONGROPE  ext = long_factor when seq_len > orig, else short_factor (both arrays of d/2 values);
 *             inv[i] = 1 / (ext[i] * base^e_i).
 *             attention = attention_factor when set; else 1 when factor <= 1; else
 *             sqrt(1 + ln(factor) / ln(orig)).
 *   PROPORTIONAL  (Gemma 4 style; d is the whole head size, the table's width) with
 *             n = rotated_pairs: inv[i] = (1 / base^e_i) / factor for i < n, and inv[i] = 0 for
 *             n <= i < d/2, so those pairs get cos 1 and sin 0 (not rotated): the rotated pairs keep
 *             the head size in their exponent.                                attention 1.
 *
 * Fields a method does not use are ignored (attention_factor too: only YARN and LONGROPE read it,
 * as in Hugging Face).
 */
typedef enum rope_scaling {
    ROPE_SCALING_DEFAULT = 0,     /* "default": plain RoPE */
    ROPE_SCALING_LINEAR = 1,      /* "linear" */
    ROPE_SCALING_DYNAMIC = 2,     /* "dynamic" (dynamic NTK) */
    ROPE_SCALING_YARN = 3,        /* "yarn" */
    ROPE_SCALING_LLAMA3 = 4,      /* "llama3" (Llama 3.1) */
    ROPE_SCALING_LONGROPE = 5,    /* "longrope" (Phi-3) */
    ROPE_SCALING_PROPORTIONAL = 6 /* "proportional" (Gemma 4 style: partial rotation, head-size exponent) */
} rope_scaling;

/* The name Hugging Face's rope_type gives `scaling` ("default", "linear", "dynamic", "yarn",
 * "llama3", "longrope", "proportional"); NULL for a value that is not a rope_scaling (so a caller
 * can list every name by counting up from 0 until NULL). The string is static. Thread-safe. */
ROPE_API const char *rope_scaling_name(rope_scaling scaling);

/* The rope_scaling a Hugging Face rope_type names: every name rope_scaling_name returns, and the
 * aliases transformers itself reads as one of them: "mrope" (Qwen2-VL / Qwen2.5-VL configs) is
 * DEFAULT, since their configuration maps it to the default frequencies. Names are case-sensitive.
 * Errors: NULL_ARGUMENT (name or out is NULL), ATTRIBUTE (a name that is none of these: the message
 * quotes it and lists the known names). *out is written only on success. Thread-safe. */
ROPE_API rope_status rope_scaling_from_name(const char *name, rope_scaling *out);

/* The widest rotary_dim a configuration takes (model heads rotate 64 to 512 elements); a bound that
 * keeps the frequency tables of a call, computed even when it has nothing to rotate, small. */
#define ROPE_MAX_ROTARY_DIM 65536

/* The largest attention factor a configuration may give (the largest float16), so that every cos/sin
 * value of a table is finite in every dtype. */
#define ROPE_MAX_ATTENTION 65504.0

/* A RoPE configuration: Hugging Face's rope_theta, rotary dimension and rope_scaling entries.
 * Versioned like rope_context_options: start from ROPE_FREQ_CONFIG_INIT (struct_size set to the size
 * this header knows, every other field 0), then set what the model's config gives; a field left 0
 * takes the default in its comment ("required" fields have none and fail with ROPE_ERROR_ATTRIBUTE
 * when 0). The library reads only the fields the caller's struct_size covers (later fields keep
 * their 0 defaults), so a program built against an older header keeps working when fields are
 * added. The oldest layout with struct_size ends after seq_len (rotated_pairs came later). A
 * struct_size of 0 (a zero-initialised config), below that oldest layout, or above
 * sizeof(rope_freq_config) is refused with ROPE_ERROR_ATTRIBUTE naming struct_size. */
typedef struct rope_freq_config {
    size_t struct_size;   /* sizeof(rope_freq_config), as ROPE_FREQ_CONFIG_INIT sets it */
    double base;          /* rope_theta; 0: 10000. Must be finite and > 1 */
    int64_t rotary_dim;   /* d, the rotated width of a head: even, 2 .. ROPE_MAX_ROTARY_DIM (>= 4 for
                             DYNAMIC). Required */
    rope_scaling scaling; /* the method; 0: DEFAULT */
    double factor;        /* required (> 0 for LINEAR, >= 1 for DYNAMIC, YARN, LLAMA3); LONGROPE:
                             >= 1, needed only when attention_factor is 0. A config without one
                             means max_position_embeddings / original_max_position_embeddings.
                             PROPORTIONAL: > 0; 0: 1 */
    int64_t original_max_position_embeddings; /* orig, the pre-training context length (> 0):
                                                 required by DYNAMIC (Hugging Face's max_position_embeddings there),
                                                 YARN, LLAMA3 and LONGROPE */
    double low_freq_factor;                   /* LLAMA3; 0: 1. Must be > 0 */
    double high_freq_factor;                  /* LLAMA3; 0: 4. Must be > low_freq_factor */
    double beta_fast;                         /* YARN; 0: 32. Must be > 0 and >= beta_slow */
    double beta_slow;                         /* YARN; 0: 1. Must be > 0 */
    double mscale;                            /* YARN (DeepSeek); 0: unset */
    double mscale_all_dim;                    /* YARN (DeepSeek); 0: unset */
    int32_t no_truncate;                      /* YARN: 0 floors/ceils the correction range (Hugging Face's default,
                                                 truncate = true); 1 keeps it fractional (truncate = false) */
    double attention_factor;                  /* YARN, LONGROPE: multiplies every cos and sin; 0: computed as above.
                                                 Must be >= 0 */
    const double *short_factor;               /* LONGROPE: d/2 values, each finite and > 0. Required */
    const double *long_factor;                /* LONGROPE: d/2 values, each finite and > 0. Required */
    int64_t seq_len;                          /* DYNAMIC, LONGROPE: the sequence length the cache serves (Hugging Face's
                                                 forward uses the largest position + 1); 0: not given, as at model
                                                 initialisation (no dynamic scaling, short factors). Must be >= 0 */
    int64_t rotated_pairs;                    /* PROPORTIONAL: n, the pairs that rotate (Hugging Face:
                                                 int(partial_rotary_factor * head_dim // 2)); 0 .. rotary_dim/2, where
                                                 0 means all of them. Other methods: must be 0 */
} rope_freq_config;

#define ROPE_FREQ_CONFIG_INIT                                                                                          \
    {                                                                                                                  \
        sizeof(rope_freq_config), 0.0, 0, ROPE_SCALING_DEFAULT, 0.0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0.0, NULL,    \
            NULL, 0, 0                                                                                                 \
    }

/*
 * The inverse frequencies inv_freq[0 .. rotary_dim/2) of `cfg` (the formulas above, in float64) and,
 * when attention_scale is not NULL, the factor that multiplies cos and sin.
 * Errors: NULL_ARGUMENT (cfg or inv_freq), ATTRIBUTE (struct_size, a field outside its domain, or a
 * configuration whose frequencies come out non-finite or not positive (PROPORTIONAL's unrotated
 * pairs are exactly 0), or whose attention factor exceeds ROPE_MAX_ATTENTION; the message names the
 * field, the expected domain and the value found). Nothing is written on failure. Thread-safe.
 */
ROPE_API rope_status rope_freq_compute(const rope_freq_config *cfg, double *inv_freq, double *attention_scale);

/* How rope_cache_fill lays a position's cos (or sin) values out in a row. */
typedef enum rope_cache_layout {
    /* [count, d/2]: value i belongs to pair i. The ONNX RotaryEmbedding cos_cache / sin_cache
     * (2-D, indexed by position_ids), for interleaved 0 and 1 alike. */
    ROPE_CACHE_HALF = 0,
    /* [count, d]: each pair's value in both of its elements, as the ATB operator reads it. With
     * rs = d / rotary_coeff, pair p = g*rs + j (j < rs) owns elements g*2*rs + j and g*2*rs + j + rs.
     * rotary_coeff 2: [c0 .. c(d/2-1), c0 .. c(d/2-1)] (rotate-half);
     * rotary_coeff d: [c0, c0, c1, c1, ...] (adjacent pairs);
     * rotary_coeff 4: [c0 .. c(d/4-1), c0 .. c(d/4-1), c(d/4) .. c(d/2-1), c(d/4) .. c(d/2-1)]. */
    ROPE_CACHE_FULL = 1,
    /* [count, d]: vLLM's cos_sin_cache, row = [cos of the d/2 pairs | sin of the d/2 pairs], written
     * to the `cos` tensor alone (`sin` must be NULL). */
    ROPE_CACHE_VLLM = 2
} rope_cache_layout;

/*
 * Fills cos and sin for the `count` consecutive positions pos_start .. pos_start+count-1: row r holds
 * attention * cos((pos_start + r) * inv_freq[p]) (and sin) for every pair p, laid out as `layout`
 * says, each value rounded once from float64 to the tensors' dtype (nearest even).
 *   cos, sin: 2-D, [count, d/2] (HALF) or [count, d] (FULL); f32, f16 or bf16, the same for both;
 *             dense (row_stride 0 or the row length); not overlapping each other. VLLM: cos is the
 *             [count, d] cos_sin_cache (f32, f16 or bf16, dense) and sin must be NULL.
 *   rotary_coeff: FULL only (ignored for HALF): 2, 4 or d, with d % rotary_coeff == 0.
 *   Positions: pos_start >= 0 and pos_start + count <= 2^53; the largest angle
 *             (pos_start + count - 1) * max(inv_freq) must stay below 2^46 rad, the range of the
 *             accurate argument reduction.
 * seq_len (DYNAMIC, LONGROPE) comes from cfg; set it to pos_start + count to get what Hugging Face's
 * forward computes for those positions.
 * Errors: NULL_ARGUMENT, ATTRIBUTE (cfg as rope_freq_compute, layout, rotary_coeff), DTYPE, RANK,
 * SHAPE (count < 0, dims), STRIDE, ALIASING, INDEX (positions), OUT_OF_MEMORY. Nothing is written on
 * failure. count 0 is valid and writes nothing. Thread-safe.
 */
ROPE_API rope_status rope_cache_fill(const rope_freq_config *cfg, int64_t pos_start, int64_t count,
                                     rope_cache_layout layout, int32_t rotary_coeff, const rope_tensor *cos,
                                     const rope_tensor *sin);

/*
 * Multi-axis positions (vision towers, image and video diffusion): each token has A coordinates
 * (e.g. time, height, width) and each axis rotates its own slice of the pairs. The rotated width is
 * rot = axes_dims[0] + ... + axes_dims[A-1]; a token's row holds axis 0's axes_dims[0]/2 pairs
 * first, then axis 1's, and so on, and pair j of axis a turns by pos[a] * inv_a[j]:
 *   ROPE_AXES_FREQ_PER_AXIS     inv_a[j] = theta_a^(-2j / axes_dims[a]): each axis's frequency index
 *                               restarts at 0 (Flux, HunyuanVideo, Wan, Qwen2-VL / Qwen2.5-VL vision,
 *                               Llama 4 vision, ggml's GGML_ROPE_TYPE_VISION).
 *   ROPE_AXES_FREQ_ALTERNATING  one frequency sequence over the whole width, dealt to the axes in
 *                               turn: inv_a[j] = theta_a^(-2k / rot) with k = j*A + a (Pixtral: height
 *                               takes the even frequencies 0, 2, 4, ..., width the odd ones). Every
 *                               axis has the same axes_dims.
 * Each power is evaluated as rope_freq_compute evaluates the default method (1 / theta^(2i/d) in
 * float64, d = axes_dims[a] or rot). How the rotated pairs sit in the head (halves or adjacent
 * pairs) is the operator's choice, not the table's: Flux, HunyuanVideo, Wan and Llama 4 vision pair
 * adjacent elements (ONNX interleaved 1, vLLM is_neox 0, ATB rotary_coeff rot), Qwen2-VL vision and
 * Pixtral pair halves (interleaved 0, is_neox 1, rotary_coeff 2).
 */
#define ROPE_MAX_AXES 8

typedef enum rope_axes_freq {
    ROPE_AXES_FREQ_PER_AXIS = 0,   /* each axis its own frequencies, index restarting per axis */
    ROPE_AXES_FREQ_ALTERNATING = 1 /* one sequence over rot, axes taking every A-th frequency */
} rope_axes_freq;

/* A multi-axis configuration. Versioned: start from ROPE_AXES_CONFIG_INIT (struct_size set, every
 * other field 0), then set the fields; the library reads only what the caller's struct_size covers. */
typedef struct rope_axes_config {
    size_t struct_size;               /* sizeof(rope_axes_config), as ROPE_AXES_CONFIG_INIT sets it */
    int32_t n_axes;                   /* A: 1 .. ROPE_MAX_AXES */
    int64_t axes_dims[ROPE_MAX_AXES]; /* each even and >= 2, summing to rot <= ROPE_MAX_ROTARY_DIM;
                                         entries from n_axes on must be 0 */
    double theta[ROPE_MAX_AXES];      /* each axis's base: finite and > 1; 0: 10000. Entries from
                                         n_axes on must be 0 */
    rope_axes_freq freq;              /* 0: ROPE_AXES_FREQ_PER_AXIS */
    double attention;                 /* multiplies every cos and sin; 0: 1. Else finite, > 0 and
                                         <= ROPE_MAX_ATTENTION */
} rope_axes_config;

#define ROPE_AXES_CONFIG_INIT                                                                                          \
    { sizeof(rope_axes_config), 0, {0}, {0.0}, ROPE_AXES_FREQ_PER_AXIS, 0.0 }

/*
 * Fills cos and sin for T tokens at multi-axis positions: row t holds, for every pair p of the rot/2
 * (axis by axis, as above), attention * cos(pos[t][a] * inv_a[j]) (and sin), laid out as `layout`
 * says (ROPE_CACHE_HALF [T, rot/2], ROPE_CACHE_FULL [T, rot] with rotary_coeff, ROPE_CACHE_VLLM
 * [T, rot] [cos | sin] rows in cos, sin NULL: as rope_cache_fill, with token t in the place of
 * position pos_start + t). The angle is the exact product of the coordinate and the float64 inverse
 * frequency, reduced as rope_cache_fill reduces it, and each value is rounded once from float64 to
 * the tables' dtype. These are per-token tables: ONNX RotaryEmbedding takes them as its 3-D
 * [batch, seq, rot/2] caches without position_ids, ATB as cos/sin rows of each token (cosFormat 0),
 * vLLM as a cos_sin_cache with positions 0 .. T-1.
 *   positions: [T, A], dense; i64 or i32 (integer coordinates, |value| <= 2^53) or f32 or f64
 *              (coordinates as diffusion pipelines pass them: any finite value, fractional and
 *              negative ones included). Every angle |pos[t][a]| * max_j inv_a[j] must stay below
 *              2^46 rad.
 *   cos, sin:  as rope_cache_fill with count T; they must not overlap positions.
 * Errors: NULL_ARGUMENT (cfg, positions, cos; sin except with ROPE_CACHE_VLLM; data of a non-empty
 * tensor), ATTRIBUTE (struct_size, n_axes, an axes_dims or theta entry, freq, ALTERNATING with
 * unequal dims, attention, layout, rotary_coeff: the message names the entry, the expected domain
 * and the value found), DTYPE, RANK, SHAPE (positions' dim 1 not A; the tables' dims), STRIDE (a
 * tensor not dense), ALIASING, INDEX (a non-finite coordinate, an integer beyond 2^53, an angle
 * reaching 2^46 rad: the message names the token and the axis), OUT_OF_MEMORY. Every position is
 * checked before anything is written; nothing is written on failure. T = 0 is valid and writes
 * nothing. Thread-safe.
 */
ROPE_API rope_status rope_cache_fill_axes(const rope_axes_config *cfg, const rope_tensor *positions,
                                          rope_cache_layout layout, int32_t rotary_coeff, const rope_tensor *cos,
                                          const rope_tensor *sin);

#endif /* ROPE_PART_CACHE_H */
