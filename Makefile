# tinymx: `make` builds every program into ./bin.
PREFIX ?= /usr/local
GO ?= $(shell command -v go || echo /usr/local/go/bin/go)
BIN := $(CURDIR)/bin
SCRIPTS := $(notdir $(wildcard scripts/*))

.PHONY: all programs scripts test bench install clean run

all: programs scripts

# Static binaries: no dynamic loader to pay for at each start (tcpserver
# runs qmail-smtpd once per connection) and less memory. The programs that
# look accounts up keep the C library's getpwnam, so NSS accounts (LDAP,
# ...) work as with the C originals; without a C compiler they read
# /etc/passwd and /etc/group.
NSS_PROGRAMS := setuidgid envuidgid qmail-smtpd-conf
CGO_NSS := $(shell command -v gcc >/dev/null 2>&1 && echo 1 || echo 0)

programs:
	@mkdir -p bin
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/ ./cmd/...
	CGO_ENABLED=$(CGO_NSS) $(GO) build -trimpath -o bin/ $(addprefix ./cmd/,$(NSS_PROGRAMS))

# The script clients name the programs they run by absolute path, as
# Debian's do with /usr/bin: here ./bin, after install PREFIX/bin.
scripts:
	@mkdir -p bin
	@for s in $(SCRIPTS); do \
		sed 's#/usr/bin/#$(BIN)/#g' scripts/$$s > bin/$$s.tmp && \
		chmod 755 bin/$$s.tmp && mv bin/$$s.tmp bin/$$s || exit 1; \
	done

# -count=1: the end-to-end tests run ./bin, which Go's test cache cannot see.
test: all
	./test/peers.sh
	$(GO) test -count=1 -timeout 20m -p 4 ./...

bench: all
	@for b in bench/*.sh; do echo "== $$b"; bash $$b || exit 1; done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8
	@for p in bin/*; do \
		n=$$(basename $$p); \
		if [ -f scripts/$$n ]; then \
			sed 's#/usr/bin/#$(PREFIX)/bin/#g' scripts/$$n > $(DESTDIR)$(PREFIX)/bin/$$n && \
			chmod 755 $(DESTDIR)$(PREFIX)/bin/$$n || exit 1; \
		else \
			install -m 755 $$p $(DESTDIR)$(PREFIX)/bin/$$n || exit 1; \
		fi; \
	done
	@for m in doc/*.1; do [ -f "$$m" ] && install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man1/; done; true
	@for m in doc/*.8; do [ -f "$$m" ] && install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man8/; done; true

run: all
	./demo/run.sh

clean:
	rm -rf bin
