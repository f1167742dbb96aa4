import GRDB

/// The spool's schema, as named migrations.
///
/// Rule: a migration that has landed is never edited; changes come as new migrations appended
/// below. A database that has applied a migration this build does not know was written by a newer
/// LienThong, and is refused (`SpoolError.newerVersion`).
enum SpoolMigrations {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-envelopes-queues-inbox-receipts-audit") { db in
            // Envelopes, partial or complete. Bodies live in `chunk`, one row per verified chunk,
            // always stored in order, so `chunks_stored` is also the resume point.
            try db.execute(
                sql: """
                    CREATE TABLE envelope (
                      id BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 32),
                      header BLOB NOT NULL,
                      chunk_table BLOB NOT NULL,
                      origin TEXT NOT NULL,
                      kind INTEGER NOT NULL,
                      urgency INTEGER NOT NULL,
                      created_at INTEGER NOT NULL,
                      expires_at INTEGER NOT NULL,
                      payload_size INTEGER NOT NULL,
                      body_size INTEGER NOT NULL,
                      chunk_count INTEGER NOT NULL,
                      chunks_stored INTEGER NOT NULL DEFAULT 0,
                      complete INTEGER NOT NULL DEFAULT 0,
                      received_from TEXT NOT NULL,
                      received_at INTEGER NOT NULL
                    );
                    CREATE INDEX envelope_by_expiry ON envelope(expires_at);
                    CREATE TABLE chunk (
                      envelope_id BLOB NOT NULL REFERENCES envelope(id) ON DELETE CASCADE,
                      idx INTEGER NOT NULL,
                      data BLOB NOT NULL,
                      PRIMARY KEY (envelope_id, idx)
                    );
                    CREATE TABLE queue_entry (
                      id INTEGER PRIMARY KEY,
                      envelope_id BLOB NOT NULL REFERENCES envelope(id),
                      peer TEXT NOT NULL,
                      recipients TEXT NOT NULL,
                      state TEXT NOT NULL CHECK (state IN ('ready', 'inflight', 'deferred', 'held', 'quarantined')),
                      held_state TEXT,
                      priority INTEGER NOT NULL,
                      enqueued_at INTEGER NOT NULL,
                      attempts INTEGER NOT NULL DEFAULT 0,
                      next_attempt_at INTEGER NOT NULL,
                      last_error TEXT,
                      expires_at INTEGER NOT NULL,
                      UNIQUE (envelope_id, peer)
                    );
                    CREATE INDEX queue_by_peer ON queue_entry(peer, state, priority DESC, enqueued_at, id);
                    CREATE INDEX queue_by_expiry ON queue_entry(expires_at);
                    CREATE TABLE seen (
                      id BLOB PRIMARY KEY NOT NULL,
                      first_seen_at INTEGER NOT NULL,
                      expires_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX seen_by_expiry ON seen(expires_at);
                    CREATE TABLE inbox (
                      envelope_id BLOB PRIMARY KEY NOT NULL REFERENCES envelope(id),
                      origin TEXT NOT NULL,
                      received_at INTEGER NOT NULL,
                      status TEXT NOT NULL,
                      status_at INTEGER NOT NULL,
                      reason TEXT
                    );
                    CREATE TABLE receipt (
                      envelope_id BLOB NOT NULL,
                      recipient TEXT NOT NULL,
                      status TEXT NOT NULL,
                      rank INTEGER NOT NULL,
                      reason TEXT,
                      updated_at INTEGER NOT NULL,
                      PRIMARY KEY (envelope_id, recipient)
                    );
                    CREATE TABLE audit (
                      seq INTEGER PRIMARY KEY,
                      at INTEGER NOT NULL,
                      event TEXT NOT NULL,
                      envelope_id BLOB,
                      peer TEXT,
                      actor TEXT NOT NULL,
                      detail TEXT,
                      prev_hash BLOB NOT NULL,
                      hash BLOB NOT NULL
                    );
                    CREATE INDEX audit_by_envelope ON audit(envelope_id);
                    CREATE TABLE audit_head (
                      one INTEGER PRIMARY KEY CHECK (one = 1),
                      seq INTEGER NOT NULL,
                      hash BLOB NOT NULL
                    );
                    """)
        }
        m.registerMigration("v2-inbox-settlement") { db in
            // A delivered envelope is "settled" once the node has acted on it in the same
            // transaction as that action: a 01 receipt sent for a document, a receipt or an
            // undeliverable notice applied to the tracking table.
            try db.execute(
                sql: """
                    ALTER TABLE inbox ADD COLUMN settled INTEGER NOT NULL DEFAULT 0;
                    CREATE INDEX inbox_unsettled ON inbox(received_at) WHERE settled = 0;
                    """)
        }
        m.registerMigration("v3-document-identity") { db in
            // Documents by business identity (edXML DocumentId; issuer, số, ký hiệu, date), sent
            // and received: duplicates are found here, revocations / updates / replacements are
            // linked to what they refer to, and a recalled document keeps its metadata here once
            // its content is destroyed.
            try db.execute(
                sql: """
                    CREATE TABLE document (
                      envelope_id BLOB PRIMARY KEY NOT NULL CHECK (length(envelope_id) = 32),
                      direction TEXT NOT NULL CHECK (direction IN ('sent', 'received')),
                      document_id TEXT,
                      organ_id TEXT NOT NULL,
                      code_number TEXT,
                      code_notation TEXT,
                      promulgation_date TEXT,
                      business_type INTEGER NOT NULL DEFAULT 0,
                      refers_to TEXT,
                      subject TEXT NOT NULL DEFAULT '',
                      linked_to BLOB,
                      duplicate_of BLOB,
                      metadata BLOB,
                      content_destroyed_at INTEGER,
                      recorded_at INTEGER NOT NULL
                    );
                    CREATE INDEX document_by_id ON document(direction, document_id);
                    CREATE INDEX document_by_code ON document(direction, organ_id, code_number, code_notation,
                                                              promulgation_date);
                    CREATE INDEX document_by_link ON document(linked_to) WHERE linked_to IS NOT NULL;
                    CREATE INDEX document_to_destroy ON document(envelope_id)
                      WHERE metadata IS NOT NULL AND content_destroyed_at IS NULL;
                    """)
            // A recall (13 → 15 / 16) beside the processing status, not in it: a recipient that
            // refuses a recall (16) goes on handling the document; the origin keeps each
            // recipient's real status. A recall that overtakes its document waits for it.
            try db.execute(
                sql: """
                    ALTER TABLE inbox ADD COLUMN recall TEXT CHECK (recall IN ('13', '15', '16'));
                    ALTER TABLE inbox ADD COLUMN recall_reason TEXT;
                    ALTER TABLE receipt ADD COLUMN recall TEXT CHECK (recall IN ('13', '15', '16'));
                    ALTER TABLE receipt ADD COLUMN recall_reason TEXT;
                    CREATE TABLE pending_recall (
                      envelope_id BLOB PRIMARY KEY NOT NULL,
                      origin TEXT NOT NULL,
                      reason TEXT,
                      at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
        m.registerMigration("v4-partial-progress") { db in
            // When a partial envelope last stored chunks: one that makes no progress for a day is
            // dropped (audited) instead of holding its peer's share of the disk until it expires.
            try db.execute(
                sql: """
                    ALTER TABLE envelope ADD COLUMN progress_at INTEGER;
                    CREATE INDEX envelope_partial ON envelope(received_from) WHERE complete = 0;
                    """)
        }
        m.registerMigration("v5-desk-accounts") { db in
            // The desk's accounts: Argon2id password hashes and the BLAKE2b hash of an API token,
            // never the password or the token itself.
            try db.execute(
                sql: """
                    CREATE TABLE account (
                      name TEXT PRIMARY KEY NOT NULL,
                      role TEXT NOT NULL,
                      password_hash TEXT,
                      token_hash BLOB UNIQUE,
                      created_at INTEGER NOT NULL,
                      changed_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
        m.registerMigration("v6-exchange-folder") { db in
            // What the hot folder has written out (a received document, a recipient's status), so a
            // restart writes each once more at most and never skips one.
            try db.execute(
                sql: """
                    CREATE TABLE exchange_done (
                      key TEXT PRIMARY KEY NOT NULL,
                      at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
        m.registerMigration("v7-retention") { db in
            // Documents whose content was archived to `archiveDir` and removed from the spool: the
            // inbox row, tracking and audit stay, and this says where the content went.
            try db.execute(
                sql: """
                    CREATE TABLE archived (
                      envelope_id BLOB PRIMARY KEY NOT NULL CHECK (length(envelope_id) = 32),
                      direction TEXT NOT NULL CHECK (direction IN ('sent', 'received')),
                      path TEXT NOT NULL,
                      metadata BLOB,
                      at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
        m.registerMigration("v8-inbox-newest-first") { db in
            // The inbox listed newest first (`inbox list`, the desk) walks this index and stops at
            // its limit, instead of sorting every inbox row each time (issue 22).
            try db.execute(sql: "CREATE INDEX inbox_newest_first ON inbox(received_at DESC, envelope_id)")
        }
        return m
    }
}
