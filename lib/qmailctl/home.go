package qmailctl

// DefaultHome is stock's compile-time auto_qmail.
const DefaultHome = "/var/qmail"

// Home is the qmail home every program reads its control files under:
// $QMAILHOME when set and not empty, else /var/qmail. set says whether
// the variable chose it (qmail-smtpd-conf then writes it into the
// service's env/). getenv is os.LookupEnv in a program, a session's own
// environment in a server.
func Home(getenv func(string) (string, bool)) (home string, set bool) {
	if h, ok := getenv("QMAILHOME"); ok && h != "" {
		return h, true
	}
	return DefaultHome, false
}
