#!/bin/sh
# Installs the C originals and clients the tests compare against.
# As root: apt-get update once, then install what is missing.
# Not root: say loudly which tests will be skipped (or fail, in CI).
pkgs="ucspi-tcp daemontools tinycdb freecdb swaks postfix groff-base python3 procps gcc libc6-dev strace"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	# postfix only for smtp-source and smtp-sink: no configuration, and its
	# daemon must never start (policy-rc.d forbids it during the install).
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	prc=/usr/sbin/policy-rc.d
	had_prc=no
	[ -e $prc ] && had_prc=yes
	[ $had_prc = no ] && printf '#!/bin/sh\nexit 101\n' > $prc && chmod 755 $prc
	apt-get update -q &&
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs
	rc=$?
	[ $had_prc = no ] && rm -f $prc
	exit $rc
fi
echo "************************************************************************"
echo "*** test/peers.sh: not root, cannot install:$missing"
if [ "$CI" = true ]; then
	echo "*** CI=true: the tests that need them will FAIL."
else
	echo "*** the tests that need them will be SKIPPED."
fi
echo "************************************************************************"
exit 0
