"""The words of passages and questions: the analyzer (analyze), what a question asks for
(question), the corpus's own spellings (spelling) and the short names it defines (aliases)."""
