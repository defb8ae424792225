/*
 * Deterministic random numbers for the simulation: xoshiro256** seeded with
 * splitmix64, so the same seed gives the same stream on every machine (no
 * libc rand, no floating-point library differences beyond IEEE basics: the
 * transcendental functions used are log/exp/sqrt/cos from libm, which glibc
 * computes correctly rounded or nearly so on every x86-64 and arm64).
 */
#ifndef FD_RNG_H
#define FD_RNG_H

#include <math.h>
#include <stdint.h>

struct fd_rng {
	uint64_t s[4];
	double spare; /* the second normal of the last pair (fd_rng_normal) */
	int has_spare;
};

static inline uint64_t fd_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void fd_rng_seed(struct fd_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	r->has_spare = 0;
	for (int i = 0; i < 4; i++)
		r->s[i] = fd_splitmix64(&x);
}

static inline uint64_t fd_rng_u64(struct fd_rng *r)
{
	uint64_t *s = r->s;
	uint64_t t = s[1] << 17;
	uint64_t x = s[1] * 5;
	uint64_t result = ((x << 7) | (x >> 57)) * 9;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = (s[3] << 45) | (s[3] >> 19);
	return result;
}

/* Uniform in [0, 1). */
static inline double fd_rng_uniform(struct fd_rng *r)
{
	return (double)(fd_rng_u64(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n). */
static inline uint64_t fd_rng_below(struct fd_rng *r, uint64_t n)
{
	return n ? (uint64_t)(fd_rng_uniform(r) * (double)n) % n : 0;
}

static inline int fd_rng_chance(struct fd_rng *r, double p)
{
	return p > 0 && fd_rng_uniform(r) < p;
}

/* Standard normal: Marsaglia's polar method, which makes two per log and
 * sqrt and no trigonometry; the second is kept for the next call. */
static inline double fd_rng_normal(struct fd_rng *r)
{
	if (r->has_spare) {
		r->has_spare = 0;
		return r->spare;
	}
	double u, v, q;
	do {
		u = 2.0 * fd_rng_uniform(r) - 1.0;
		v = 2.0 * fd_rng_uniform(r) - 1.0;
		q = u * u + v * v;
	} while (q >= 1.0 || q == 0.0);
	double f = sqrt(-2.0 * log(q) / q);
	r->spare = v * f;
	r->has_spare = 1;
	return u * f;
}

/* Exponential with the given mean. */
static inline double fd_rng_exp(struct fd_rng *r, double mean)
{
	return -mean * log(1.0 - fd_rng_uniform(r));
}

#endif
