/* The preload gate's driver (benches/gates.sh): calls execve N times on a path that does not
 * exist, so every call goes through librampart.so's decision (the command `git status`, allowed
 * by the standard profile) and then fails with ENOENT without replacing the process. A missing
 * path is a PATH-search candidate to the library: decided, neither recorded nor printed, so the
 * count has no file I/O in it. Run under callgrind with and without LD_PRELOAD and with several
 * N, the differences are the library's load, its first decision and a steady one. */
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 0;
    char *args[] = {"git", "status", NULL};
    char *env[] = {NULL};
    for (int i = 0; i < n; i++) {
        execve("/nonexistent/rampart-gate/git", args, env);
    }
    return 0;
}
