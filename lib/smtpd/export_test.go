package smtpd

import "os"

var osErrDeadline = os.ErrDeadlineExceeded
