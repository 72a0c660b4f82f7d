//go:build !amd64

package ucspi

const haveVforkExit = false

func vforkExit(code uintptr) (uintptr, uintptr) { return 0, 0 }
