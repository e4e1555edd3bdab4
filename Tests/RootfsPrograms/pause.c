// The pause image's program for the CRI test lane and bench: the pod sandbox's init. It sleeps until SIGTERM or
// SIGINT (then exits 0) and reaps every child handed to it, as Kubernetes' pause does. Built with gcc -static.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int signal) { (void)signal; _exit(0); }

static void reap(int signal) {
    (void)signal;
    while (waitpid(-1, NULL, WNOHANG) > 0) {}
}

int main(int argc, char **argv) {
    (void)argv;
    if (argc > 1) { fprintf(stderr, "pause: takes no arguments\n"); return 1; }
    if (getpid() != 1) fprintf(stderr, "pause: warning: not PID 1\n");
    struct sigaction action = {0};
    action.sa_handler = stop;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    action.sa_handler = reap;
    action.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &action, NULL);
    for (;;) pause();
}
