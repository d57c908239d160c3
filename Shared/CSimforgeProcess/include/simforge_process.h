#ifndef SIMFORGE_PROCESS_H
#define SIMFORGE_PROCESS_H

#include <sys/types.h>

/// Starts `path` with exactly `argv` and `envp` (nothing inherited), in `directory`
/// (NULL: the caller's), with the three given descriptors as its stdin, stdout and stderr
/// and every other descriptor closed, all signals at their defaults and none blocked.
/// `new_session`: the child leads a new session and process group (it survives its
/// parent and can be signalled as a group with kill(-pid, ...)).
/// Returns 0 and sets *pid, or an errno value.
int simforge_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                   const char *directory, int stdin_fd, int stdout_fd, int stderr_fd,
                   int new_session);

/// Makes the process undumpable: another process of the same user can then neither read
/// its memory nor its /proc/<pid>/environ (where secrets given in the environment stay).
/// Returns 0, or -1 with errno set.
int simforge_forbid_inspection(void);

#endif
