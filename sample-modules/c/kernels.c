/* spillscope sample: realistic compiler output from a real toolchain.
 *
 * A handful of kernels with the shapes register allocators find hard: a
 * SHA-256 compression loop (many values live at once), an LZ77-style
 * compressor (nested loops, memory-heavy), a small bytecode interpreter
 * (a big switch in a loop), and printf from wasi-libc (a large, branchy
 * function linked in from the C library).
 *
 * Built with the command in build.sh; the result is checked in as
 * kernels.wasm.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

__attribute__((export_name("sha256_block")))
void sha256_block(uint32_t state[8], const uint8_t block[64]) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 |
               (uint32_t)block[4 * i + 2] << 8 | block[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1;
        d = c; c = b; b = a; a = t1 + t2;
    }
    state[0] += a; state[1] += b; state[2] += c; state[3] += d;
    state[4] += e; state[5] += f; state[6] += g; state[7] += h;
}

/* LZ77-style compressor: emits (offset, length) pairs or literals. */
__attribute__((export_name("lz_compress")))
size_t lz_compress(const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
    size_t i = 0, o = 0;
    uint16_t head[4096];
    memset(head, 0xff, sizeof head);
    while (i < n && o + 4 < cap) {
        size_t best_len = 0, best_off = 0;
        if (i + 3 <= n) {
            uint32_t h = ((uint32_t)in[i] * 2654435761u ^ (uint32_t)in[i + 1] << 8 ^ in[i + 2]) & 4095;
            size_t cand = head[h];
            head[h] = (uint16_t)i;
            if (cand != 0xffff && cand < i && i - cand < 65535) {
                size_t len = 0;
                while (i + len < n && len < 255 && in[cand + len] == in[i + len])
                    len++;
                if (len >= 4) {
                    best_len = len;
                    best_off = i - cand;
                }
            }
        }
        if (best_len) {
            out[o++] = 0xff;
            out[o++] = (uint8_t)best_off;
            out[o++] = (uint8_t)(best_off >> 8);
            out[o++] = (uint8_t)best_len;
            i += best_len;
        } else {
            if (in[i] == 0xff)
                out[o++] = 0xff, out[o++] = 0, out[o++] = 0, out[o++] = 0;
            else
                out[o++] = in[i];
            i++;
        }
    }
    return o;
}

/* A small stack-machine interpreter: a big switch inside a loop. */
enum { OP_PUSH, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_DUP, OP_SWAP, OP_JZ, OP_JMP, OP_LOAD, OP_STORE, OP_PRINT, OP_HALT };

__attribute__((export_name("run_vm")))
int64_t run_vm(const int32_t *code, int32_t len, int64_t *mem) {
    int64_t stack[256];
    int sp = 0, pc = 0;
    int64_t steps = 0;
    while (pc >= 0 && pc < len && steps < 1000000) {
        int32_t op = code[pc++];
        steps++;
        switch (op) {
        case OP_PUSH: stack[sp++] = code[pc++]; break;
        case OP_ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case OP_SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case OP_MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case OP_DIV: sp--; stack[sp - 1] = stack[sp] ? stack[sp - 1] / stack[sp] : 0; break;
        case OP_DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case OP_SWAP: { int64_t t = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = t; } break;
        case OP_JZ: { int32_t t = code[pc++]; if (stack[--sp] == 0) pc = t; } break;
        case OP_JMP: pc = code[pc]; break;
        case OP_LOAD: stack[sp - 1] = mem[stack[sp - 1] & 63]; break;
        case OP_STORE: sp -= 2; mem[stack[sp + 1] & 63] = stack[sp]; break;
        case OP_PRINT: printf("vm: %lld\n", (long long)stack[--sp]); break;
        case OP_HALT: return sp ? stack[sp - 1] : 0;
        default: return -1;
        }
        if (sp < 0 || sp > 250) return -2;
    }
    return sp ? stack[sp - 1] : 0;
}

static uint8_t buffer[1 << 16];
static uint8_t packed[1 << 17];

int main(int argc, char **argv) {
    uint32_t state[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                         0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    for (size_t i = 0; i < sizeof buffer; i++)
        buffer[i] = (uint8_t)(i * 7 + (i >> 5));
    for (size_t i = 0; i + 64 <= sizeof buffer; i += 64)
        sha256_block(state, buffer + i);
    size_t n = lz_compress(buffer, sizeof buffer, packed, sizeof packed);
    int32_t prog[] = {OP_PUSH, 10, OP_DUP, OP_PRINT, OP_PUSH, 1, OP_SUB, OP_DUP, OP_JZ, 12, OP_JMP, 2, OP_HALT};
    int64_t mem[64] = {0};
    int64_t r = run_vm(prog, sizeof prog / sizeof prog[0], mem);
    printf("sha256 %08x%08x packed %zu -> %zu vm %lld argc %d %s\n", state[0], state[1],
           sizeof buffer, n, (long long)r, argc, argc > 1 ? argv[1] : "");
    return 0;
}
