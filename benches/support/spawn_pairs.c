/* spawn_pairs N PROG VARIANT...: spawns PROG (no arguments) N times per variant, the variants
 * interleaved, each VARIANT a space-separated list of extra environment entries ("-" for none).
 * Prints, for each variant after the first, the median of its paired differences to the first
 * (each pair ran back to back, so the machine's drift cancels), then each variant's p50. */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
    if (argc < 4) return 2;
    int n = atoi(argv[1]), v = argc - 3;
    char *prog = argv[2], *args[] = {prog, NULL};
    char ***envs = calloc(v, sizeof *envs), *home = NULL;
    if (asprintf(&home, "HOME=%s", getenv("HOME") ? getenv("HOME") : "/") < 0) return 1;
    for (int k = 0; k < v; k++) {
        char **e = calloc(64, sizeof *e), *s = strdup(argv[3 + k]);
        int m = 0;
        e[m++] = home;
        if (strcmp(s, "-"))
            for (char *tok = strtok(s, " "); tok && m < 63; tok = strtok(NULL, " ")) e[m++] = tok;
        envs[k] = e;
    }
    double *t = calloc((size_t)n * v, sizeof *t), *d = calloc(n, sizeof *d);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < v; k++) {
            pid_t pid;
            int status;
            double start = now_us();
            if (posix_spawn(&pid, prog, NULL, NULL, args, envs[k])) return 1;
            waitpid(pid, &status, 0);
            t[(size_t)k * n + i] = now_us() - start;
        }
    for (int k = 1; k < v; k++) {
        for (int i = 0; i < n; i++) d[i] = t[(size_t)k * n + i] - t[i];
        qsort(d, n, sizeof *d, by_value);
        printf("%+8.1f us paired  %s\n", d[n / 2], argv[3 + k]);
    }
    for (int k = 0; k < v; k++) {
        qsort(t + (size_t)k * n, n, sizeof *t, by_value);
        printf("%8.1f us p50     %s\n", t[(size_t)k * n + n / 2], argv[3 + k]);
    }
    return 0;
}
