package ucspi

const haveVforkExit = true

// vforkExit is clone(CLONE_VM|CLONE_VFORK|SIGCHLD) whose child calls
// exit_group(code) straight away; the parent resumes once it has exited.
// In assembly because the child shares our stack: it must not return or
// call anything (fork_amd64.s).
func vforkExit(code uintptr) (pid uintptr, errno uintptr)
