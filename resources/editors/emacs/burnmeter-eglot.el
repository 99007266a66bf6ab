(with-eval-after-load 'eglot
  (add-to-list 'eglot-server-programs
               '((python-mode python-ts-mode) . ("burnmeter" "lsp"
                                                 :initializationOptions (:tierHints t)))))
