-- How were the essays marked (TP_STATUS_REDACAO: valid, annulled, blank, off-topic, ...)?
-- Population: every candidate whose essay has a status (present on day 1), practice takers
-- included; share_pct is of those essays; mean_essay is the mean essay score within each status
-- (any status but 1 scores 0).
-- Group size: essays.
SELECT
    m.tp_status_redacao AS essay_status,
    l.label AS essay_status_label,
    COUNT(*) AS essays,
    ROUND(100 * CAST(COUNT(*) AS DOUBLE) / SUM(COUNT(*)) OVER (), 2) AS share_pct,
    ROUND(AVG(m.nu_nota_redacao), 1) AS mean_essay
FROM microdados_enem_2019 AS m
LEFT JOIN label_tp_status_redacao AS l ON l.code = m.tp_status_redacao
WHERE m.tp_status_redacao IS NOT NULL
GROUP BY m.tp_status_redacao, l.label
ORDER BY m.tp_status_redacao
