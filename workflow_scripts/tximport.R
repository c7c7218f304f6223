# Gene TPM of a species from kallisto abundances with tximport (lengthScaledTPM).
# Usage: Rscript tximport.R OUT.tsv TX2GENE.tsv IGNORE_TX_VERSION(TRUE|FALSE) SAMPLE=abundance.tsv...
# Writes gene_id + one TPM column per sample (txi$abundance), via a temporary file + rename.

suppressPackageStartupMessages(library(tximport))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 4) {
  stop("usage: tximport.R OUT.tsv TX2GENE.tsv TRUE|FALSE SAMPLE=abundance.tsv ...")
}
out <- args[1]
tx2gene <- read.delim(args[2], colClasses = "character")
ignore_version <- as.logical(args[3])
pairs <- args[-(1:3)]
samples <- sub("=.*$", "", pairs)
files <- setNames(sub("^[^=]*=", "", pairs), samples)

txi <- tximport(files, type = "kallisto", tx2gene = tx2gene[, c("transcript_id", "gene_id")],
                countsFromAbundance = "lengthScaledTPM", ignoreTxVersion = ignore_version)
tpm <- txi$abundance
colnames(tpm) <- samples
if (nrow(tpm) == 0) stop("tximport gave no genes: do the transcript IDs of tx2gene match kallisto's?")
message(sprintf("tximport: %d genes x %d samples", nrow(tpm), ncol(tpm)))

table <- data.frame(gene_id = rownames(tpm), tpm, check.names = FALSE)
tmp <- file.path(dirname(out), paste0(".", basename(out), ".tmp"))
write.table(table, tmp, sep = "\t", quote = FALSE, row.names = FALSE)
if (!file.rename(tmp, out)) stop("cannot rename ", tmp, " to ", out)
