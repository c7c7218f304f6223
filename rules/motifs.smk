# Learned motifs per species and experiment: TF-MoDISco (modisco-lite) over the held-out maps
# of every fold and seed, with the window = the whole input, then `modisco report`; motif
# positions around the TSS and TTS, a meta-profile, and TOMTOM matches against JASPAR CORE
# plants (pyjaspar's local database) or explain.motif_db (mtmixg.interpret.motifs).


rule motifs:
    input:
        maps=attribution_map_files,
        spec="results/{species}/windows/window.json",
    output:
        table=report(
            f"{MOTIFS_DIR}/motifs.tsv",
            caption="../report/motifs.rst",
            category="Motifs",
            subcategory="{species}",
            labels={
                "species": "{species}",
                "experiment": "{experiment}",
                "table": "motifs",
            },
        ),
        matches=report(
            f"{MOTIFS_DIR}/matches.tsv",
            caption="../report/motif_matches.rst",
            category="Motifs",
            subcategory="{species}",
            labels={
                "species": "{species}",
                "experiment": "{experiment}",
                "table": "matches",
            },
        ),
        meme=f"{MOTIFS_DIR}/motifs.meme",
        positions=f"{MOTIFS_DIR}/positions.tsv",
        profile=f"{MOTIFS_DIR}/metaprofile.tsv",
        h5=f"{MOTIFS_DIR}/modisco.h5",
        info=f"{MOTIFS_DIR}/motifs.json",
        report_dir=directory(f"{MOTIFS_DIR}/report"),
    log:
        "logs/{species}/motifs/{experiment}.log",
    benchmark:
        "benchmarks/{species}/motifs/{experiment}.tsv"
    conda:
        "../envs/explain.yaml"
    params:
        # one record per (seed, fold) map, with the paths of its files (the input maps)
        maps=attribution_maps,
        max_seqlets=EXPLAIN["max_seqlets"],
        motif_db=EXPLAIN["motif_db"],
    script:
        "../workflow_scripts/motifs.py"


rule motif_figures:
    input:
        table=f"{MOTIFS_DIR}/motifs.tsv",
        matches=f"{MOTIFS_DIR}/matches.tsv",
        meme=f"{MOTIFS_DIR}/motifs.meme",
        profile=f"{MOTIFS_DIR}/metaprofile.tsv",
        positions=f"{MOTIFS_DIR}/positions.tsv",
    output:
        profile=figure(
            "results/{species}/motifs/{experiment}/metaprofile.png",
            "metaprofile",
            category="Motifs",
            species="{species}",
            experiment="{experiment}",
            figure="meta-profile",
        ),
        logos=figure(
            "results/{species}/motifs/{experiment}/logos.png",
            "motif_logos",
            category="Motifs",
            species="{species}",
            experiment="{experiment}",
            figure="motif logos",
        ),
    log:
        "logs/{species}/motifs/{experiment}_figures.log",
    localrule: True
    conda:
        "../envs/explain.yaml"
    script:
        "../workflow_scripts/motif_figures.py"
