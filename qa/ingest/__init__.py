"""Files -> documents -> passages: the wiki-style parser (parse), Punkt sentences and citation
marks (sentences), the passage table (passages), and a folder's files and documents (corpus)."""
