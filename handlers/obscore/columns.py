"""The 30 mandatory columns of IVOA ObsCore 1.1 (the standard's Table 6), defined once.

The record (``obscore.record``) and the catalog's tables are held to this list by tests:
names, ADQL types, units and UCDs as the Recommendation gives them (REC-ObsCore-v1.1,
2017-05-09, section 4 and appendix C).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    #: The ADQL type: VARCHAR, INTEGER, BIGINT, DOUBLE, CLOB or REGION.
    datatype: str
    #: The VOUnit, or None for a dimensionless value.
    unit: str | None
    ucd: str
    utype: str


COLUMNS: tuple[Column, ...] = (
    Column("dataproduct_type", "VARCHAR", None, "meta.code.class", "ObsDataset.dataProductType"),
    Column("calib_level", "INTEGER", None, "meta.code;obs.calib", "ObsDataset.calibLevel"),
    Column("obs_collection", "VARCHAR", None, "meta.id", "DataID.collection"),
    Column("obs_id", "VARCHAR", None, "meta.id", "DataID.observationID"),
    Column("obs_publisher_did", "VARCHAR", None, "meta.ref.ivoid", "Curation.publisherDID"),
    Column("access_url", "CLOB", None, "meta.ref.url", "Access.reference"),
    Column("access_format", "VARCHAR", None, "meta.code.mime", "Access.format"),
    Column("access_estsize", "BIGINT", "kbyte", "phys.size;meta.file", "Access.size"),
    Column("target_name", "VARCHAR", None, "meta.id;src", "Target.name"),
    Column("s_ra", "DOUBLE", "deg", "pos.eq.ra", "Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C1"),
    Column("s_dec", "DOUBLE", "deg", "pos.eq.dec", "Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C2"),
    Column("s_fov", "DOUBLE", "deg", "phys.angSize;instr.fov", "Char.SpatialAxis.Coverage.Bounds.Extent.diameter"),
    Column("s_region", "REGION", None, "pos.outline;obs.field", "Char.SpatialAxis.Coverage.Support.Area"),
    Column("s_resolution", "DOUBLE", "arcsec", "pos.angResolution", "Char.SpatialAxis.Resolution.Refval.value"),
    Column("s_xel1", "BIGINT", None, "meta.number", "Char.SpatialAxis.numBins1"),
    Column("s_xel2", "BIGINT", None, "meta.number", "Char.SpatialAxis.numBins2"),
    Column("t_min", "DOUBLE", "d", "time.start;obs.exposure", "Char.TimeAxis.Coverage.Bounds.Limits.StartTime"),
    Column("t_max", "DOUBLE", "d", "time.end;obs.exposure", "Char.TimeAxis.Coverage.Bounds.Limits.StopTime"),
    Column("t_exptime", "DOUBLE", "s", "time.duration;obs.exposure", "Char.TimeAxis.Coverage.Support.Extent"),
    Column("t_resolution", "DOUBLE", "s", "time.resolution", "Char.TimeAxis.Resolution.Refval.value"),
    Column("t_xel", "BIGINT", None, "meta.number", "Char.TimeAxis.numBins"),
    Column("em_min", "DOUBLE", "m", "em.wl;stat.min", "Char.SpectralAxis.Coverage.Bounds.Limits.LoLimit"),
    Column("em_max", "DOUBLE", "m", "em.wl;stat.max", "Char.SpectralAxis.Coverage.Bounds.Limits.HiLimit"),
    Column("em_res_power", "DOUBLE", None, "spect.resolution", "Char.SpectralAxis.Resolution.ResolPower.refVal"),
    Column("em_xel", "BIGINT", None, "meta.number", "Char.SpectralAxis.numBins"),
    Column("o_ucd", "VARCHAR", None, "meta.ucd", "Char.ObservableAxis.ucd"),
    Column("pol_states", "VARCHAR", None, "meta.code;phys.polarization", "Char.PolarizationAxis.stateList"),
    Column("pol_xel", "BIGINT", None, "meta.number", "Char.PolarizationAxis.numBins"),
    Column("facility_name", "VARCHAR", None, "meta.id;instr.tel", "Provenance.ObsConfig.Facility.name"),
    Column("instrument_name", "VARCHAR", None, "meta.id;instr", "Provenance.ObsConfig.Instrument.name"),
)

#: Not ObsCore's (which has no filter column), but what users search by.
FILTER = Column("filter", "VARCHAR", None, "instr.filter", "")
