#!/usr/bin/env bash
# Nightly PostgreSQL backup: pg_dump's custom format into BACKUP_DIR, keeping KEEP_DAYS days.
#   DATABASE_URL=postgresql://membership@127.0.0.1/membership BACKUP_DIR=/var/backups/membership \
#     deploy/backup.sh
# Restore (into an empty database):  pg_restore --no-owner --dbname=NEWDB FILE.dump
# tests/deploy/test_backup.py runs this script and that restore.
set -euo pipefail
: "${DATABASE_URL:?set DATABASE_URL (postgresql://user@host/db)}"
BACKUP_DIR="${BACKUP_DIR:-/var/backups/membership}"
KEEP_DAYS="${KEEP_DAYS:-14}"
url="${DATABASE_URL/postgresql+psycopg:/postgresql:}"
mkdir -p "$BACKUP_DIR"
umask 077
target="$BACKUP_DIR/membership-$(date -u +%Y%m%dT%H%M%SZ).dump"
pg_dump --format=custom --no-owner --file="$target.partial" "$url"
mv "$target.partial" "$target"
find "$BACKUP_DIR" -name 'membership-*.dump' -mtime +"$KEEP_DAYS" -delete
echo "$target"
