{#
    The RF segment map (seeds/rfm_segments.csv) must be total and unambiguous: each of the
    25 cells of recency score × frequency score maps to exactly one segment, and no row
    lies outside the grid. Fails with one row per cell that is missing, duplicated or
    out of range.
#}

with

rfm_segments as (

    select * from {{ ref('rfm_segments') }}

),

scores as (

    select score_values.score
    from (values (1), (2), (3), (4), (5)) as score_values (score)

),

cells as (

    select
        r_scores.score as r_score,
        f_scores.score as f_score
    from scores as r_scores
    cross join scores as f_scores

),

mapped as (

    select
        r_score,
        f_score,
        count(*) as mapping_count
    from rfm_segments
    group by 1, 2

),

final as (

    select
        coalesce(cells.r_score, mapped.r_score) as r_score,
        coalesce(cells.f_score, mapped.f_score) as f_score,
        coalesce(mapped.mapping_count, 0) as mapping_count,
        case
            when cells.r_score is null then 'outside the 5 x 5 grid'
            when mapped.mapping_count is null then 'cell not mapped'
            else 'cell mapped more than once'
        end as problem
    from cells
    full outer join mapped
        on
            cells.r_score = mapped.r_score
            and cells.f_score = mapped.f_score
    where cells.r_score is null or coalesce(mapped.mapping_count, 0) <> 1

)

select * from final
