package smtpd

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func controlDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "control"), 0755)
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, "control", name), []byte(data), 0644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func envOf(m map[string]string) Getenv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadConfigStockDefaults(t *testing.T) {
	cfg, err := LoadConfig(controlDir(t, map[string]string{"me": "mx.example.org\n"}), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Greeting != "mx.example.org" || !cfg.HasLocalIP || cfg.LocalIPHost != "mx.example.org" ||
		cfg.Timeout != 1200*time.Second || cfg.Databytes != 0 || cfg.MaxHops != 100 || !cfg.Size ||
		cfg.Received.RemoteIP != "unknown" || cfg.Received.Local != "unknown" || cfg.Received.RemoteHost != "unknown" ||
		cfg.HasRelay || cfg.Received.HasInfo {
		t.Fatalf("%+v", cfg)
	}
}

func TestLoadConfigNeedsMeOrSmtpgreeting(t *testing.T) {
	if _, err := LoadConfig(controlDir(t, nil), envOf(nil)); err == nil {
		t.Fatal("started without me and smtpgreeting")
	}
	cfg, err := LoadConfig(controlDir(t, map[string]string{"smtpgreeting": ""}), envOf(nil))
	if err != nil || cfg.Greeting != "" || cfg.HasLocalIP {
		t.Fatalf("empty smtpgreeting: %+v %v", cfg, err)
	}
}

func TestLoadConfigIntegersAsStock(t *testing.T) {
	cases := []struct {
		timeout string
		want    time.Duration
	}{{"0", time.Second}, {"2", 2 * time.Second}, {"1200abc", 1200 * time.Second}, {" 5", 1200 * time.Second},
		{"x", 1200 * time.Second}, {"4294967296", time.Second}, {"2147483648", time.Second}}
	for _, c := range cases {
		cfg, err := LoadConfig(controlDir(t, map[string]string{"me": "x", "timeoutsmtpd": c.timeout + "\n"}), envOf(nil))
		if err != nil || cfg.Timeout != c.want {
			t.Errorf("timeoutsmtpd %q: %v %v", c.timeout, cfg.Timeout, err)
		}
	}
	for env, want := range map[string]uint64{"": 0, "5": 5, "junk": 0, "4294967296": 4294967294, "99999999999999": 4294967294} {
		cfg, _ := LoadConfig(controlDir(t, map[string]string{"me": "x", "databytes": "10\n"}), envOf(map[string]string{"DATABYTES": env}))
		if cfg.Databytes != want {
			t.Errorf("DATABYTES=%q: %d", env, cfg.Databytes)
		}
	}
}

func TestLoadConfigEnvironment(t *testing.T) {
	cfg, err := LoadConfig(controlDir(t, map[string]string{"me": "x", "maxhops": "7\n"}), envOf(map[string]string{
		"TCPLOCALHOST": "mx", "TCPLOCALIP": "1.2.3.4", "TCPREMOTEINFO": "", "RELAYCLIENT": "", "QMAIL_SMTPD_NOSIZE": "1",
		"QMAIL_SMTPD_STRICT_CRLF": "1", "QMAIL_SMTPD_MAXLINE": "512"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Received.Local != "mx" || !cfg.Received.HasInfo || !cfg.HasRelay || cfg.Size || !cfg.StrictCR ||
		cfg.MaxLine != 512 || cfg.MaxHops != 7 {
		t.Fatalf("%+v", cfg)
	}
}

func TestLoadConfigUnreadableControlIsAnError(t *testing.T) {
	dir := controlDir(t, map[string]string{"me": "x"})
	os.MkdirAll(filepath.Join(dir, "control", "badmailfrom"), 0755) // EISDIR on read
	if _, err := LoadConfig(dir, envOf(nil)); err == nil {
		t.Fatal("unreadable badmailfrom accepted")
	}
}
