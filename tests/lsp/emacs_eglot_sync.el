;;; Batch Emacs: eglot with the README's snippet (loaded from $BURNMETER_EGLOT_SNIPPET)
;;; starts `burnmeter lsp' for $BURNMETER_TEST_FILE, edits the buffer (eglot sends
;;; `textDocument/didChange' whatever the server's sync kind, incremental unless it is 1),
;;; asks for the code lens (a round trip: the server has read the change by then), closes
;;; the buffer (`textDocument/didClose') and writes as JSON to $BURNMETER_TEST_OUT:
;;; {"sync": the server's textDocumentSync, "lenses": [...], "methods": [the methods eglot
;;; sent], "stderr": the server's stderr}, or "ERROR: ..." if a step failed.
;; Run without -Q: Debian's site-start puts its elpa-eglot package on package.el's path.
(require 'json)

(defvar burnmeter-test-out (getenv "BURNMETER_TEST_OUT"))

(defun burnmeter-test-write (text)
  (with-temp-file burnmeter-test-out (insert text "\n")))

(defun burnmeter-test-sent-methods (server)
  "The methods of the client's messages in eglot's events buffer, in order."
  (with-current-buffer (jsonrpc-events-buffer server)
    (save-excursion
      (goto-char (point-min))
      (let (found)
        (while (re-search-forward "^\\[client-notification\\][^\n]*\n(:jsonrpc \"2.0\" :method \"\\([^\"]+\\)\"" nil t)
          (push (match-string 1) found))
        (vconcat (nreverse found))))))

(condition-case err
    (progn
      (load (getenv "BURNMETER_EGLOT_SNIPPET") nil t)
      (require 'eglot)
      (setq eglot-sync-connect t
            eglot-connect-timeout 30)
      (find-file (getenv "BURNMETER_TEST_FILE"))
      (apply #'eglot (eglot--guess-contact))
      (let* ((server (eglot-current-server))
             (sync (plist-get (eglot--capabilities server) :textDocumentSync))
             (file-buffer (current-buffer)))
        (unless server
          (error "eglot did not connect"))
        (goto-char (point-min))
        (insert "# edited\n")
        (eglot--signal-textDocument/didChange)
        (let ((lenses (jsonrpc-request
                       server :textDocument/codeLens
                       (list :textDocument (eglot--TextDocumentIdentifier))
                       :timeout 15)))
          (set-buffer-modified-p nil)
          (kill-buffer file-buffer)
          ;; Another round trip: the didClose has been read.
          (jsonrpc-request server :workspace/executeCommand
                           (list :command "burnmeter.sessions" :arguments [])
                           :timeout 15)
          (let ((methods (burnmeter-test-sent-methods server))
                (stderr (with-current-buffer (jsonrpc-stderr-buffer server)
                          (buffer-substring-no-properties (point-min) (point-max)))))
            (burnmeter-test-write
             (json-encode (list :sync sync :lenses lenses :methods methods
                                :stderr stderr)))
            (eglot-shutdown server)))))
  (error (burnmeter-test-write (format "ERROR: %S" err))))
(kill-emacs 0)
