/* The floor of deciding an exec locally (benches/exec_floor.sh): what an LD_PRELOAD library
 * pays per intercepted exec to map a bundle and record the decision, with no evaluation at all.
 * Built four ways: STEPS=0 forwards execve untouched, 1 maps the bundle and touches its first
 * page and one page of its own state, 2 appends a line to a spool file, 3 does both. Paths come
 * from FLOOR_BUNDLE and FLOOR_SPOOL at build time. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef int (*execve_fn)(const char *, char *const[], char *const[]);

static char state[4 * 4096];

int execve(const char *path, char *const argv[], char *const envp[]) {
    execve_fn real = (execve_fn)dlsym(RTLD_NEXT, "execve");
#if STEPS & 1
    int fd = open(FLOOR_BUNDLE, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0) {
        volatile const char *map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map != MAP_FAILED) state[0] = map[0];
    }
    if (fd >= 0) close(fd);
#endif
#if STEPS & 2
    static const char line[] =
        "{\"ts\":1700000000000,\"pid\":1,\"agent\":\"preload\",\"tool\":\"exec\","
        "\"command\":\"/bin/true\",\"decision\":\"allow\",\"rule\":\"\"}\n";
    int spool = open(FLOOR_SPOOL, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (spool >= 0) {
        (void)!write(spool, line, sizeof line - 1);
        close(spool);
    }
#endif
    return real(path, argv, envp);
}
