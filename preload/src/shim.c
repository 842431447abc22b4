/* execl, execlp and execle are C-variadic, which stable Rust cannot define. These collect the
 * arguments into an argv on the stack (no malloc: the caller may be a vfork child) and hand over to
 * the Rust hooks. The exported symbols are Rust trampolines (hooks.rs) that jump here, because
 * rustc's version script would hide symbols defined in C. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>

enum { SHIM_EXECL = 0, SHIM_EXECLP = 1, SHIM_EXECLE = 2 };

/* More arguments than this cannot fit in ARG_MAX anyway; the bound keeps the VLA on the stack sane. */
#define SHIM_MAX_ARGS 65536

int rampart_exec_from_shim(int kind, const char *path, char *const argv[], char *const envp[]);

static size_t count_args(const char *first, va_list ap) {
    size_t n = first != NULL;
    while (first != NULL && n <= SHIM_MAX_ARGS && va_arg(ap, const char *) != NULL)
        n++;
    return n;
}

#define COLLECT_AND_CALL(kind, path, arg, with_env)                                  \
    do {                                                                             \
        va_list ap;                                                                  \
        va_start(ap, arg);                                                           \
        size_t n = count_args(arg, ap);                                              \
        va_end(ap);                                                                  \
        if (n > SHIM_MAX_ARGS) {                                                     \
            errno = E2BIG;                                                           \
            return -1;                                                               \
        }                                                                            \
        char *argv[n + 1];                                                           \
        char *const *envp = NULL;                                                    \
        va_start(ap, arg);                                                           \
        argv[0] = (char *)arg;                                                       \
        for (size_t i = 1; i <= n; i++) /* i == n reads the terminating NULL */      \
            argv[i] = va_arg(ap, char *);                                            \
        if (with_env)                                                                \
            envp = va_arg(ap, char *const *);                                        \
        va_end(ap);                                                                  \
        return rampart_exec_from_shim(kind, path, argv, envp);                       \
    } while (0)

/* With no arguments at all (arg == NULL) the argv is just {NULL} and, for execle, the envp follows
 * arg directly: the loop above reads nothing when n == 0. */
__attribute__((visibility("hidden"))) int rampart_execl(const char *path, const char *arg, ...) {
    COLLECT_AND_CALL(SHIM_EXECL, path, arg, 0);
}

__attribute__((visibility("hidden"))) int rampart_execlp(const char *file, const char *arg, ...) {
    COLLECT_AND_CALL(SHIM_EXECLP, file, arg, 0);
}

__attribute__((visibility("hidden"))) int rampart_execle(const char *path, const char *arg, ...) {
    COLLECT_AND_CALL(SHIM_EXECLE, path, arg, 1);
}
