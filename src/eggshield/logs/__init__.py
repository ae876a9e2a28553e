"""Egg log files: streaming parsers, security-event detectors, sensitive-data finders, alerting.

    files    which files Egg writes and in what order to read them (rotated, gzipped)
    lines    bytes → bounded, decoded lines; bad bytes become problem lines, never exceptions
    textfmt  egg-logger's text format (multi-line errors, the [user/ip/trace/ms METHOD url] prefix)
    jsonfmt  egg-logger's JSON format (`*.json.log`, egg 3 `paddingMessage`)
    source   every record of a set of paths, each file oldest first, files merged in time order
    signals  what one record says (a CSRF failure, an attack payload, an error type, ...)
    sensitive  secrets and personal data in records (CWE-532), masked; redaction
    windows  thresholds over sliding windows (TOML rules), shared by `analyze` and `watch`
    analyze  the whole pipeline for `eggshield logs analyze`
    follow, watch  live following with SQLite checkpoints and alert delivery
    ecs, sigma  export to central log platforms and SIEMs
"""
